'use client';
// The restore dialog: says exactly what will happen, asks for the tenant's name (or the new schema
// name) typed exactly, then follows the restore to its outcome. The server checks the confirmation
// again; this only keeps people from clicking through.
import { useQuery } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import type { ActionState } from '@/lib/api/action';
import { formatBytes, formatDateTime, STORAGE_TIER_LABELS } from './format';
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
}

interface Props {
  action: RestoreAction;
  tenant: { id: string; name: string; schemaName: string };
  backup: RestoreBackup;
  otherTenants: { id: string; name: string; schemaName: string }[];
  undoDays: number;
  timeZone: string;
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

function RestoreDialog({ action, tenant, backup, otherTenants, undoDays, timeZone, onClose }: Props & { onClose: () => void }) {
  const [mode, setMode] = useState<Mode>('in_place');
  const [targetSchema, setTargetSchema] = useState('');
  const [targetTenantId, setTargetTenantId] = useState(otherTenants[0]?.id ?? '');
  const [confirm, setConfirm] = useState('');
  const [acceptUnsigned, setAcceptUnsigned] = useState(false);
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [restoreId, setRestoreId] = useState<string | null>(null);
  const [undoUntil] = useState(() => new Date(Date.now() + undoDays * 86_400_000));

  const target = otherTenants.find((t) => t.id === targetTenantId);
  const expected = mode === 'clone' ? targetSchema : mode === 'cross_tenant' ? (target?.name ?? '') : tenant.name;
  const unsigned = backup.signed !== true;
  const canSubmit = !pending && expected.length > 0 && confirm === expected && (!unsigned || acceptUnsigned);

  async function submit() {
    if (!canSubmit) return;
    setPending(true);
    setError(null);
    const result = await action(null, {
      tenantId: tenant.id,
      backupId: backup.id,
      mode: mode === 'cross_tenant' ? 'in_place' : mode,
      ...(mode === 'clone' ? { targetSchema } : {}),
      ...(mode === 'cross_tenant' ? { targetTenantId } : {}),
      confirm,
      ...(unsigned ? { allowUnsigned: acceptUnsigned } : {}),
    });
    setPending(false);
    if (result.error) setError(result.error);
    else setRestoreId((result.data as { id: string }).id);
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

          {mode === 'clone' ? (
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

          <div className="mt-4 rounded-md border border-amber-200 bg-amber-50 p-3 text-sm text-amber-900" data-testid="restore-explanation">
            {mode === 'in_place' ? (
              <p>
                The current data of <strong>{tenant.name}</strong> (schema <code>{tenant.schemaName}</code>) is moved aside and kept for undo until{' '}
                <strong>{formatDateTime(undoUntil, timeZone)}</strong>. The backup from {when} then becomes the live data, in one transaction: if
                anything fails, the tenant stays exactly as it is. Changes made after {when} will no longer be visible — put the tenant in
                maintenance first, since writes during the restore land in the moved-aside copy.
              </p>
            ) : mode === 'clone' ? (
              <p>
                The backup from {when} is restored into a new schema <code>{targetSchema || '…'}</code>. The live schema <code>{tenant.schemaName}</code>{' '}
                is not touched, and the clone is not registered as a tenant.
              </p>
            ) : (
              <p>
                The current data of <strong>{target?.name}</strong> (schema <code>{target?.schemaName}</code>) is moved aside and kept for undo until{' '}
                <strong>{formatDateTime(undoUntil, timeZone)}</strong>, and replaced by {tenant.name}’s backup from {when}.
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
            expected={expected || (mode === 'clone' ? 'the new schema name' : '')}
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
          {data.status === 'completed' ? (
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
