'use client';
// "Back up now": queue a manual backup, then follow that job to its outcome with live progress.
import { useQuery } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useActionState, useEffect } from 'react';
import type { ActionState } from '@/lib/api/action';
import { formatBytes, STORAGE_TIER_LABELS } from './format';
import { buttonClass, StatusBadge } from './ui';

type Action = (prev: unknown, input: FormData) => Promise<ActionState>;

export function BackupNow({ action, tenantId }: { action: Action; tenantId: string }) {
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
        <button type="submit" disabled={pending} className={buttonClass.primary}>
          {pending ? 'Queuing…' : 'Back up now'}
        </button>
      </form>
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
        </>
      ) : data.status === 'failed' ? (
        <span className="text-red-600">Backup failed: {data.error_message ?? 'no reason recorded'}</span>
      ) : (
        <>
          {data.status === 'pending' ? 'Waiting for a worker' : 'Backing up'} · {formatBytes(data.progress_bytes)}
        </>
      )}
      {data ? <StatusBadge status={data.status} /> : null}
    </div>
  );
}
