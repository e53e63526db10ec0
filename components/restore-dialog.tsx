'use client';
// The restore dialog: says exactly what will happen, asks for the tenant's name (or the new schema
// name) typed exactly, then follows the restore to its outcome. The server checks the confirmation
// again; this only keeps people from clicking through.
import { useQuery } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import type { ActionState } from '@/lib/api/action';
import { deletionConfirmation } from '@/lib/api/confirmations';
import { formatBytes, formatDateTime, STORAGE_TIER_LABELS } from './format';
import { filesProgressLabel, type FilesCounts } from './files-progress';
import { Dialog, TypedConfirmation } from './dialog';
import { buttonClass, inputClass, StatusBadge } from './ui';

type RestoreAction = (prev: ActionState | null, input: Record<string, unknown>) => Promise<ActionState>;

export interface RestoreBackup {
  id: string;
  startedAt: string | null;
  backupSizeBytes: number | null;
  dumpSizeBytes: number | null;
  storageTier: string;
  origin: string;
  /** Whether the backup's manifest is signed: anything else needs the admin's explicit confirmation. */
  signed: boolean | null;
  /** The backup point also holds the tenant's files (design.md "Tenant files"): how many, how big, from where. */
  includeFiles?: boolean;
  filesCount?: number | null;
  filesBytes?: number | null;
  filesPrefix?: string | null;
}

interface Props {
  action: RestoreAction;
  tenant: { id: string; name: string; schemaName: string };
  backup: RestoreBackup;
  otherTenants: { id: string; name: string; schemaName: string }[];
  undoDays: number;
  timeZone: string;
  /** Why files cannot be restored (tenant files are off: FILES_OFF_MESSAGE), or null. */
  filesOff?: string | null;
}

type Mode = 'in_place' | 'clone' | 'cross_tenant';

export function RestoreButton(props: Props) {
  const [open, setOpen] = useState(false);
  const opener = useRef<HTMLButtonElement>(null);
  return (
    <>
      <button
        ref={opener}
        type="button"
        className={buttonClass.small}
        onClick={() => setOpen(true)}
        aria-label={`Restore backup from ${formatDateTime(props.backup.startedAt, props.timeZone)}`}
        data-testid={`restore-${props.backup.id}`}
      >
        Restore…
      </button>
      {open ? (
        <RestoreDialog
          {...props}
          onClose={() => {
            setOpen(false);
            opener.current?.focus();
          }}
        />
      ) : null}
    </>
  );
}

function RestoreDialog({ action, tenant, backup, otherTenants, undoDays, timeZone, filesOff = null, onClose }: Props & { onClose: () => void }) {
  const [mode, setMode] = useState<Mode>('in_place');
  const [targetSchema, setTargetSchema] = useState('');
  const [targetTenantId, setTargetTenantId] = useState(otherTenants[0]?.id ?? '');
  const [confirm, setConfirm] = useState('');
  const [acceptUnsigned, setAcceptUnsigned] = useState(false);
  // Tenant files: only offered for a backup that holds them.
  const [restoreFiles, setRestoreFiles] = useState(false);
  const [filesOnly, setFilesOnly] = useState(false);
  const [filesPrefix, setFilesPrefix] = useState('');
  const [deleteExtra, setDeleteExtra] = useState(false);
  const [deleteConfirm, setDeleteConfirm] = useState('');
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [restoreId, setRestoreId] = useState<string | null>(null);
  const [undoUntil] = useState(() => new Date(Date.now() + undoDays * 86_400_000));

  const target = otherTenants.find((t) => t.id === targetTenantId);
  const unsigned = backup.signed !== true;
  const offerFiles = backup.includeFiles === true;
  const withFiles = offerFiles && !filesOff && restoreFiles;
  const prefix = filesPrefix.trim();
  // Only a clone's files: no schema is made, so the confirmation names the files prefix written.
  const cloneFilesOnly = mode === 'clone' && withFiles && filesOnly;
  const expected = cloneFilesOnly ? prefix : mode === 'clone' ? targetSchema : mode === 'cross_tenant' ? (target?.name ?? '') : tenant.name;
  // What the second confirmation of "Delete objects not in the backup" asks to type (checked again on the server).
  const deletionExpected = deletionConfirmation({
    mode: mode === 'clone' ? 'clone' : 'in_place',
    tenantId: tenant.id,
    ...(mode === 'cross_tenant' ? { targetTenantId } : {}),
    filesPrefix: prefix,
  });
  const filesReady = !withFiles || ((mode !== 'clone' || prefix.length > 0) && (!deleteExtra || (deletionExpected.length > 0 && deleteConfirm === deletionExpected)));
  const canSubmit = !pending && expected.length > 0 && confirm === expected && (!unsigned || acceptUnsigned) && filesReady;

  async function submit() {
    if (!canSubmit) return;
    setPending(true);
    setError(null);
    const result = await action(null, {
      tenantId: tenant.id,
      backupId: backup.id,
      mode: mode === 'cross_tenant' ? 'in_place' : mode,
      ...(mode === 'clone' && !cloneFilesOnly ? { targetSchema } : {}),
      ...(mode === 'cross_tenant' ? { targetTenantId } : {}),
      confirm,
      ...(unsigned ? { allowUnsigned: acceptUnsigned } : {}),
      ...(withFiles
        ? {
            restoreFiles: true,
            ...(filesOnly ? { filesOnly: true } : {}),
            ...(mode === 'clone' ? { filesPrefix: prefix } : {}),
            ...(deleteExtra ? { deleteExtra: true, deleteExtraConfirm: deleteConfirm } : {}),
          }
        : {}),
    });
    setPending(false);
    if (result.error) {
      const details = Object.values(result.fieldErrors ?? {}).filter((m) => m !== result.error);
      setError([result.error, ...details].join(' '));
    } else setRestoreId((result.data as { id: string }).id);
  }

  const when = formatDateTime(backup.startedAt, timeZone);
  return (
    <Dialog title={`Restore ${tenant.name}`} onClose={onClose} testId="restore-dialog">
      <dl className="mt-3 grid grid-cols-2 gap-x-4 gap-y-1 rounded-md bg-slate-50 p-3 text-sm">
        <dt className="text-slate-500">Backup taken</dt>
        <dd className="text-slate-900">{when}</dd>
        <dt className="text-slate-500">Size</dt>
        <dd className="text-slate-900">
          {formatBytes(backup.backupSizeBytes)} stored · {formatBytes(backup.dumpSizeBytes)} dump
        </dd>
        <dt className="text-slate-500">Storage tier</dt>
        <dd className="text-slate-900">{STORAGE_TIER_LABELS[backup.storageTier] ?? backup.storageTier}</dd>
        <dt className="text-slate-500">Origin</dt>
        <dd className="text-slate-900">{backup.origin}</dd>
        {offerFiles ? (
          <>
            <dt className="text-slate-500">Files</dt>
            <dd className="text-slate-900" data-testid="restore-backup-files">
              {backup.filesCount ?? '—'} objects · {formatBytes(backup.filesBytes)}
            </dd>
          </>
        ) : null}
      </dl>

      {restoreId ? (
        <RestoreProgress restoreId={restoreId} timeZone={timeZone} onClose={onClose} />
      ) : (
        <>
          <fieldset className="mt-4">
            <legend className="text-sm font-medium text-slate-800">What to do</legend>
            <div className="mt-2 space-y-2 text-sm">
              <label className="flex items-start gap-2">
                <input type="radio" name="mode" value="in_place" checked={mode === 'in_place'} onChange={() => (setMode('in_place'), setConfirm(''))} className="mt-1" />
                <span>Replace the live data (in place)</span>
              </label>
              <label className="flex items-start gap-2">
                <input type="radio" name="mode" value="clone" checked={mode === 'clone'} onChange={() => (setMode('clone'), setConfirm(''))} className="mt-1" />
                <span>Clone into a new schema (the live tenant is not touched)</span>
              </label>
              {otherTenants.length > 0 ? (
                <label className="flex items-start gap-2">
                  <input type="radio" name="mode" value="cross_tenant" checked={mode === 'cross_tenant'} onChange={() => (setMode('cross_tenant'), setConfirm(''))} className="mt-1" />
                  <span>Replace another tenant’s data with this backup (cross-tenant)</span>
                </label>
              ) : null}
            </div>
          </fieldset>

          {mode === 'clone' && !cloneFilesOnly ? (
            <div className="mt-3">
              <label htmlFor="target-schema" className="mb-1 block text-sm font-medium text-slate-700">
                New schema name
              </label>
              <input id="target-schema" value={targetSchema} onChange={(e) => (setTargetSchema(e.target.value), setConfirm(''))} className={inputClass} autoComplete="off" />
            </div>
          ) : null}
          {mode === 'cross_tenant' ? (
            <div className="mt-3">
              <label htmlFor="target-tenant" className="mb-1 block text-sm font-medium text-slate-700">
                Tenant to overwrite
              </label>
              <select id="target-tenant" value={targetTenantId} onChange={(e) => (setTargetTenantId(e.target.value), setConfirm(''))} className={inputClass}>
                {otherTenants.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name} ({t.id})
                  </option>
                ))}
              </select>
            </div>
          ) : null}

          {offerFiles ? (
            <fieldset className="mt-4 rounded-md border border-slate-200 p-3 text-sm" data-testid="restore-files">
              <legend className="px-1 text-sm font-medium text-slate-800">Tenant files</legend>
              {filesOff ? (
                <p className="mb-2 text-slate-500" id="restore-files-off" data-testid="restore-files-off">
                  Files cannot be restored: {filesOff}
                </p>
              ) : null}
              <label className={`flex items-start gap-2 ${filesOff ? 'text-slate-400' : ''}`}>
                <input
                  type="checkbox"
                  checked={withFiles}
                  disabled={Boolean(filesOff)}
                  aria-describedby={filesOff ? 'restore-files-off' : undefined}
                  onChange={(e) => {
                    setRestoreFiles(e.target.checked);
                    if (!e.target.checked) {
                      setFilesOnly(false);
                      setDeleteExtra(false);
                      setDeleteConfirm('');
                      if (cloneFilesOnly) setConfirm('');
                    }
                  }}
                  className="mt-1"
                  data-testid="restore-files-toggle"
                />
                <span>
                  Restore files too: may write up to <strong>{backup.filesCount ?? '—'}</strong> objects (
                  <strong>{formatBytes(backup.filesBytes)}</strong>), only those whose current content differs (by SHA-256), after the database
                  part.
                </span>
              </label>
              {withFiles && mode === 'clone' ? (
                <div className="mt-3">
                  <label htmlFor="files-prefix" className="mb-1 block text-sm font-medium text-slate-700">
                    New files prefix
                  </label>
                  <input
                    id="files-prefix"
                    value={filesPrefix}
                    onChange={(e) => {
                      setFilesPrefix(e.target.value);
                      setDeleteConfirm('');
                      if (cloneFilesOnly) setConfirm('');
                    }}
                    placeholder={targetSchema ? `clones/${targetSchema}/` : 'clones/new-name/'}
                    className={inputClass}
                    autoComplete="off"
                    spellCheck={false}
                  />
                  <p className="mt-1 text-xs text-slate-500">
                    Where the clone’s files go in the files bucket: a new prefix ending in “/”
                    {backup.filesPrefix ? (
                      <>
                        , not the tenant’s own <code>{backup.filesPrefix}</code>
                      </>
                    ) : null}
                    .
                  </p>
                </div>
              ) : null}
              {withFiles ? (
                <>
                  <label className="mt-2 flex items-start gap-2">
                    <input
                      type="checkbox"
                      checked={filesOnly}
                      onChange={(e) => (setFilesOnly(e.target.checked), setConfirm(''))}
                      className="mt-1"
                      data-testid="restore-files-only"
                    />
                    <span>Only the files: leave the database as it is (to resume a file restore that failed)</span>
                  </label>
                  <label className="mt-2 flex items-start gap-2">
                    <input
                      type="checkbox"
                      checked={deleteExtra}
                      onChange={(e) => (setDeleteExtra(e.target.checked), setDeleteConfirm(''))}
                      className="mt-1"
                      data-testid="restore-delete-extra"
                    />
                    <span>Delete objects not in the backup (everything under the prefix that its file index does not list)</span>
                  </label>
                </>
              ) : null}
              {withFiles && deleteExtra ? (
                <div className="mt-3 rounded-md border border-red-200 bg-red-50 p-3 text-red-900" data-testid="restore-delete-extra-confirm">
                  <p>
                    Objects the backup does not list (created after {when}) under{' '}
                    {mode === 'clone' ? (
                      <code>{prefix || 'the new prefix'}</code>
                    ) : (
                      <>
                        <strong>{mode === 'cross_tenant' ? (target?.name ?? '') : tenant.name}</strong>’s files prefix
                      </>
                    )}{' '}
                    are <strong>deleted</strong>, and no undo brings them back.
                  </p>
                  <label htmlFor="delete-extra-confirm" className="mt-2 mb-1 block font-medium">
                    Second confirmation: type{' '}
                    <strong className="font-semibold break-all select-all">{deletionExpected || 'the new files prefix'}</strong>{' '}
                    {mode === 'clone' ? '(the new files prefix)' : '(the tenant id)'} to allow deleting objects not in the backup
                  </label>
                  <input
                    id="delete-extra-confirm"
                    value={deleteConfirm}
                    onChange={(e) => setDeleteConfirm(e.target.value)}
                    className={inputClass}
                    autoComplete="off"
                    spellCheck={false}
                  />
                </div>
              ) : null}
            </fieldset>
          ) : null}

          <div className="mt-4 rounded-md border border-amber-200 bg-amber-50 p-3 text-sm text-amber-900" data-testid="restore-explanation">
            {withFiles && filesOnly ? (
              <p>
                Only the files: the database is left as it is. Every object of the backup from {when} whose content differs is written back under{' '}
                {mode === 'clone' ? <code>{prefix || '…'}</code> : 'the files prefix of the tenant overwritten'}
                {deleteExtra ? ', and objects the backup does not list are deleted' : ''}.
              </p>
            ) : mode === 'in_place' ? (
              <p>
                The current data of <strong>{tenant.name}</strong> (schema <code>{tenant.schemaName}</code>) is moved aside and kept for undo until{' '}
                <strong>{formatDateTime(undoUntil, timeZone)}</strong>. The backup from {when} then becomes the live data, in one transaction: if
                anything fails, the tenant stays exactly as it is. Changes made after {when} will no longer be visible — put the tenant in
                maintenance first, since writes during the restore land in the moved-aside copy.
                {withFiles ? ' Then the files are written back under its files prefix; undo does not bring back the files they replaced.' : ''}
              </p>
            ) : mode === 'clone' ? (
              <p>
                The backup from {when} is restored into a new schema <code>{targetSchema || '…'}</code>. The live schema <code>{tenant.schemaName}</code>{' '}
                is not touched, and the clone is not registered as a tenant.
                {withFiles ? <> Its files are written under <code>{prefix || '…'}</code>.</> : null}
              </p>
            ) : (
              <p>
                The current data of <strong>{target?.name}</strong> (schema <code>{target?.schemaName}</code>) is moved aside and kept for undo until{' '}
                <strong>{formatDateTime(undoUntil, timeZone)}</strong>, and replaced by {tenant.name}’s backup from {when}.
                {withFiles ? ` Then ${tenant.name}’s backed-up files are written under ${target?.name ?? 'that tenant'}’s files prefix.` : ''}
              </p>
            )}
          </div>

          {unsigned ? (
            <div className="mt-3 rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-900" data-testid="restore-unsigned">
              <p>
                This backup’s manifest is <strong>not signed</strong>: it was taken before Strata signed its backups, or taken into the catalog
                with <code>catalog rebuild --trust-unsigned</code>. Strata cannot prove that Strata wrote it — anyone holding the bucket’s keys
                could have replaced it. Restore it only if you trust what is in the bucket.
              </p>
              <label className="mt-2 flex items-start gap-2">
                <input type="checkbox" checked={acceptUnsigned} onChange={(e) => setAcceptUnsigned(e.target.checked)} className="mt-1" />
                <span>I trust this unsigned backup and want to restore it</span>
              </label>
            </div>
          ) : null}

          <TypedConfirmation
            id="restore-confirm"
            expected={expected || (cloneFilesOnly ? 'the new files prefix' : mode === 'clone' ? 'the new schema name' : '')}
            value={confirm}
            onChange={setConfirm}
            error={error}
            canSubmit={canSubmit}
            onSubmit={submit}
            onCancel={onClose}
            submitLabel={pending ? 'Starting…' : mode === 'clone' ? 'Clone backup' : `Restore ${mode === 'cross_tenant' ? (target?.name ?? '') : tenant.name}`}
            submitTestId="restore-submit"
          />
        </>
      )}
    </Dialog>
  );
}

interface RestoreJson {
  id: string;
  status: string;
  phase: string | null;
  progress_bytes: number;
  total_bytes: number | null;
  target_schema: string;
  moved_aside_schema: string | null;
  undo_expires_at: string | null;
  error_message: string | null;
  completed_at: string | null;
  // Tenant files: the file part asked for, and how it went.
  restore_files?: boolean;
  files_only?: boolean;
  files_prefix?: string | null;
  files_status?: string | null;
  files_report?: (FilesCounts & { written?: number; unchanged?: number; deleted?: number; failed?: { key: string; error: string }[] }) | null;
  files_error?: string | null;
}

export function RestoreProgress({ restoreId, timeZone, onClose }: { restoreId: string; timeZone: string; onClose?: () => void }) {
  const router = useRouter();
  const { data, error } = useQuery({
    queryKey: ['restore', restoreId],
    queryFn: async (): Promise<RestoreJson> => {
      const res = await fetch(`/api/restores/${restoreId}`, { cache: 'no-store' });
      const body = await res.json().catch(() => null);
      if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
      return body.restore;
    },
    refetchInterval: (q) => (q.state.data && ['completed', 'failed', 'undone'].includes(q.state.data.status) ? false : 1000),
  });
  const done = data && ['completed', 'failed', 'undone'].includes(data.status);
  useEffect(() => {
    if (done) router.refresh();
  }, [done, router]);
  const pct = data?.total_bytes ? Math.min(100, Math.floor((data.progress_bytes / data.total_bytes) * 100)) : null;
  return (
    <div className="mt-4 space-y-3 text-sm" aria-live="polite" data-testid="restore-progress">
      {error ? <p className="text-red-600">Could not read the restore’s progress: {error.message}</p> : null}
      {!data ? (
        <p className="text-slate-500">Waiting for a worker…</p>
      ) : (
        <>
          <div className="flex items-center justify-between">
            <span>
              {data.phase ?? (data.status === 'pending' ? 'waiting for a worker' : data.status)} · {formatBytes(data.progress_bytes)}
              {data.total_bytes ? ` of ${formatBytes(data.total_bytes)}` : ''}
            </span>
            <StatusBadge status={data.status} />
          </div>
          <div className="h-2 w-full overflow-hidden rounded bg-slate-100" role="progressbar" aria-label="restore progress" aria-valuenow={pct ?? undefined} aria-valuemin={0} aria-valuemax={100}>
            <div className="h-full bg-sky-500 transition-all" style={{ width: `${done ? 100 : (pct ?? 5)}%` }} />
          </div>
          {data.restore_files ? <RestoreFilesStatus restore={data} /> : null}
          {data.status === 'completed' && data.files_only ? (
            <p className="rounded-md bg-emerald-50 p-3 text-emerald-800" data-testid="restore-outcome">
              Files restored{data.files_prefix ? <> under <code>{data.files_prefix}</code></> : null}; the database was not touched.
            </p>
          ) : data.status === 'completed' ? (
            <p className="rounded-md bg-emerald-50 p-3 text-emerald-800" data-testid="restore-outcome">
              Restored into <code>{data.target_schema}</code>.
              {data.moved_aside_schema ? (
                <>
                  {' '}
                  The previous data is kept as <code>{data.moved_aside_schema}</code>
                  {data.undo_expires_at ? ` until ${formatDateTime(data.undo_expires_at, timeZone)}` : ''}; use Undo on the tenant page to switch back.
                </>
              ) : null}
            </p>
          ) : data.status === 'failed' ? (
            <p className="rounded-md bg-red-50 p-3 text-red-700" data-testid="restore-outcome">
              The restore failed and the tenant was left as it was: {data.error_message ?? 'no reason recorded'}
            </p>
          ) : null}
        </>
      )}
      {onClose ? (
        <div className="flex justify-end">
          <button type="button" className={buttonClass.secondary} onClick={onClose}>
            {done ? 'Close' : 'Close (the restore continues)'}
          </button>
        </div>
      ) : null}
    </div>
  );
}

/** The file part of a restore: its status, objects and bytes done of total, what it wrote, and why it failed. */
function RestoreFilesStatus({ restore }: { restore: RestoreJson }) {
  const report = restore.files_report;
  return (
    <div className="rounded-md border border-slate-200 p-3" data-testid="restore-files-status">
      <div className="flex items-center justify-between gap-2">
        <span>
          Files{restore.files_prefix ? <> → <code>{restore.files_prefix}</code></> : null}
          {report ? <span className="tabular-nums"> · {filesProgressLabel(report).replace(/^files /, '')}</span> : null}
        </span>
        <StatusBadge status={restore.files_status ?? 'pending'} />
      </div>
      {report && (restore.files_status === 'completed' || restore.files_status === 'failed') ? (
        <p className="mt-1 text-xs text-slate-500">
          {report.written ?? 0} written · {report.unchanged ?? 0} already equal · {report.deleted ?? 0} deleted
          {report.failed?.length ? ` · ${report.failed.length} failed` : ''}
        </p>
      ) : null}
      {restore.files_error ? (
        <p className="mt-1 text-red-700" data-testid="restore-files-error">
          {restore.files_error}
        </p>
      ) : null}
    </div>
  );
}
