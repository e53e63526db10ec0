'use client';
// "Back up now": queue a manual backup, then follow that job to its outcome with live progress.
import { useQuery } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useActionState, useEffect } from 'react';
import type { ActionState } from '@/lib/api/action';
import { formatBytes, STORAGE_TIER_LABELS } from './format';
import { FilesProgressText, type FilesCounts } from './files-progress';
import { buttonClass, StatusBadge } from './ui';

type Action = (prev: unknown, input: FormData) => Promise<ActionState>;

/**
 * `filesOff`: why tenant files cannot be backed up (FILES_OFF_MESSAGE: STRATA_FILES_BUCKET is not set),
 * or null when they can; the "include files" box is then disabled with that explanation.
 */
export function BackupNow({ action, tenantId, filesOff = null }: { action: Action; tenantId: string; filesOff?: string | null }) {
  const [state, formAction, pending] = useActionState(action, null);
  const jobId = (state?.data as { id?: string } | undefined)?.id;
  return (
    <div className="flex flex-col items-start gap-2 sm:items-end">
      <form action={formAction} className="flex flex-wrap items-center gap-2">
        <input type="hidden" name="tenantId" value={tenantId} />
        <label htmlFor="storage-tier" className="text-sm text-slate-600">
          Store in
        </label>
        <select id="storage-tier" name="storageTier" defaultValue="s3_standard" className="rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm">
          {Object.entries(STORAGE_TIER_LABELS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
        <label htmlFor="backup-type" className="text-sm text-slate-600">
          as
        </label>
        <select
          id="backup-type"
          name="backupType"
          defaultValue="full"
          title="Incremental: the dump is taken in full, but only the parts this storage tier does not hold yet are uploaded"
          className="rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm"
        >
          <option value="full">full</option>
          <option value="incremental">incremental</option>
        </select>
        <label
          className={`flex items-center gap-1 text-sm ${filesOff ? 'text-slate-400' : 'text-slate-600'}`}
          title={filesOff ?? 'Also back up the tenant’s objects under its files prefix, listed after the database snapshot'}
        >
          <input
            type="checkbox"
            name="includeFiles"
            value="true"
            disabled={Boolean(filesOff)}
            aria-describedby={filesOff ? 'include-files-off' : undefined}
            data-testid="backup-include-files"
          />
          include files
        </label>
        <button type="submit" disabled={pending} className={buttonClass.primary}>
          {pending ? 'Queuing…' : 'Back up now'}
        </button>
      </form>
      {filesOff ? (
        <span id="include-files-off" className="text-xs text-slate-500" data-testid="backup-files-off">
          Files cannot be included: {filesOff}
        </span>
      ) : null}
      {state?.error ? (
        <span role="alert" className="text-sm text-red-600">
          {state.error}
        </span>
      ) : null}
      {jobId ? <JobProgress key={jobId} jobId={jobId} /> : null}
    </div>
  );
}

interface JobJson {
  status: string;
  progress_bytes: number;
  backup_size_bytes: number | null;
  backup_type: string;
  added_bytes: number | null;
  error_message: string | null;
  /** Only for a backup with files: objects and bytes of the tenant's files done/total while stored. */
  include_files?: boolean;
  files_progress?: FilesCounts | null;
  files_count?: number | null;
  files_bytes?: number | null;
}

function JobProgress({ jobId }: { jobId: string }) {
  const router = useRouter();
  const { data, error } = useQuery({
    queryKey: ['backup-job', jobId],
    queryFn: async (): Promise<JobJson> => {
      const res = await fetch(`/api/backups/jobs/${jobId}`, { cache: 'no-store' });
      const body = await res.json().catch(() => null);
      if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
      return body.job;
    },
    refetchInterval: (q) => (q.state.data && ['completed', 'failed', 'deleted'].includes(q.state.data.status) ? false : 700),
  });
  const done = data && ['completed', 'failed', 'deleted'].includes(data.status);
  useEffect(() => {
    if (done) router.refresh();
  }, [done, router]);
  if (error) return <span className="text-sm text-red-600">Could not follow the backup: {error.message}</span>;
  return (
    <div role="status" aria-live="polite" className="flex items-center gap-2 text-sm text-slate-600" data-testid="backup-now-progress">
      {!data ? (
        'Backup queued…'
      ) : data.status === 'completed' ? (
        <>
          Backup completed · {formatBytes(data.backup_size_bytes)} stored
          {data.backup_type === 'incremental' ? ` · ${formatBytes(data.added_bytes)} added` : ''}
          {data.include_files ? ` · files: ${data.files_count ?? 0} (${formatBytes(data.files_bytes)})` : ''}
        </>
      ) : data.status === 'failed' ? (
        <span className="text-red-600">Backup failed: {data.error_message ?? 'no reason recorded'}</span>
      ) : (
        <>
          {data.status === 'pending' ? 'Waiting for a worker' : 'Backing up'} · {formatBytes(data.progress_bytes)}
          {data.include_files && data.files_progress ? <FilesProgressText files={data.files_progress} /> : null}
        </>
      )}
      {data ? <StatusBadge status={data.status} /> : null}
    </div>
  );
}
