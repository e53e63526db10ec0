'use client';
// Pending and running jobs with live progress, polled from /api/dashboard/active. When a job
// leaves the list (finished), the server-rendered page around it is refreshed.
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useEffect, useRef } from 'react';
import { formatBytes } from './format';
import { filesProgressLabel, type FilesCounts } from './files-progress';
import { StatusBadge } from './ui';

interface ActiveJob {
  kind: 'backup' | 'restore';
  id: string;
  tenant_id: string;
  status: string;
  detail: string;
  progress_bytes: number;
  total_bytes: number | null;
  started_at: string | null;
  /** Present for a job with tenant files: their objects and bytes done/total, and the file part's status. */
  files?: FilesCounts & { status: string | null };
}

export function percent(progress: number, total: number | null): number | null {
  if (!total || total <= 0) return null;
  return Math.min(99, Math.floor((progress / total) * 100));
}

export function LiveJobs({ tenantId, showTenant = true }: { tenantId?: string; showTenant?: boolean }) {
  const router = useRouter();
  const url = `/api/dashboard/active${tenantId ? `?tenant=${encodeURIComponent(tenantId)}` : ''}`;
  const { data, error, isPending } = useQuery({
    queryKey: ['active-jobs', tenantId ?? null],
    queryFn: async (): Promise<{ jobs: ActiveJob[] }> => {
      const res = await fetch(url, { cache: 'no-store' });
      if (!res.ok) throw new Error((await res.json().catch(() => null))?.error?.message ?? `HTTP ${res.status}`);
      return res.json();
    },
    refetchInterval: 1500,
  });
  const seen = useRef<Set<string> | null>(null);
  useEffect(() => {
    if (!data) return;
    const ids = new Set(data.jobs.map((j) => j.id));
    if (seen.current && [...seen.current].some((id) => !ids.has(id))) router.refresh();
    seen.current = ids;
  }, [data, router]);

  if (isPending) return <p className="text-sm text-slate-500">Loading running jobs…</p>;
  if (error) return <p role="alert" className="text-sm text-red-600">Could not load running jobs: {error.message}</p>;
  if (!data.jobs.length) return <p className="text-sm text-slate-500" data-testid="no-running-jobs">No backups or restores are running.</p>;
  return (
    <ul className="divide-y divide-slate-100" aria-live="polite" data-testid="running-jobs">
      {data.jobs.map((j) => {
        const pct = percent(j.progress_bytes, j.total_bytes);
        return (
          <li key={j.id} className="py-2" data-testid={`job-${j.id}`}>
            <div className="flex flex-wrap items-center justify-between gap-2 text-sm">
              <div className="min-w-0">
                {showTenant ? (
                  <Link href={`/tenants/${encodeURIComponent(j.tenant_id)}`} className="font-medium text-slate-900 hover:underline">
                    {j.tenant_id}
                  </Link>
                ) : null}{' '}
                <span className="text-slate-600">{j.detail}</span>
              </div>
              <div className="flex items-center gap-2">
                <span className="tabular-nums text-slate-600" data-testid="job-progress">
                  {formatBytes(j.progress_bytes)}
                  {pct !== null ? ` · ${pct}%` : ''}
                </span>
                <StatusBadge status={j.status} />
              </div>
            </div>
            <div
              className="mt-1 h-1.5 w-full overflow-hidden rounded bg-slate-100"
              role="progressbar"
              aria-label={`${j.kind} progress`}
              aria-valuemin={0}
              aria-valuemax={100}
              aria-valuenow={pct ?? undefined}
            >
              <div
                className={`h-full rounded bg-sky-500 transition-all ${pct === null && j.status === 'running' ? 'animate-pulse' : ''}`}
                style={{ width: `${pct ?? (j.status === 'running' ? 100 : 0)}%`, opacity: pct === null ? 0.4 : 1 }}
              />
            </div>
            {j.files ? <FilesLine files={j.files} kind={j.kind} /> : null}
          </li>
        );
      })}
    </ul>
  );
}

/** The file part of a job: objects and bytes done of total, with its own bar (by bytes, else objects). */
function FilesLine({ files, kind }: { files: FilesCounts & { status: string | null }; kind: 'backup' | 'restore' }) {
  const pct = files.bytes_total > 0 ? percent(files.bytes_done, files.bytes_total) : percent(files.objects_done, files.objects_total);
  const waiting = files.status === 'pending' || (files.objects_total === 0 && files.status !== 'completed');
  return (
    <div className="mt-1" data-testid="job-files-progress">
      <div className="flex items-center justify-between gap-2 text-xs text-slate-500">
        <span className="tabular-nums">
          {waiting ? `files: ${kind === 'backup' ? 'listed after the database snapshot' : 'written back after the database part'}` : filesProgressLabel(files)}
        </span>
        {files.status === 'failed' ? <span className="text-red-600">files failed</span> : null}
      </div>
      {waiting ? null : (
        <div
          className="mt-0.5 h-1 w-full overflow-hidden rounded bg-slate-100"
          role="progressbar"
          aria-label={`${kind} files progress`}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={pct ?? undefined}
        >
          <div className="h-full rounded bg-emerald-500 transition-all" style={{ width: `${files.status === 'completed' ? 100 : (pct ?? 0)}%` }} />
        </div>
      )}
    </div>
  );
}
