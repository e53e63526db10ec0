// What the dashboard's live view polls (/api/dashboard/active): the pending and running jobs, and for
// those with tenant files (design.md "Tenant files") how far their file part is — a backup's
// files_progress, a restore's files_status and files_report.
import { inArray } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { activeJobs, type ActiveJob } from '../db/queries/backups.ts';
import { backupJobs, restoreJobs } from '../db/schema.ts';

/** Objects and bytes of a file part: done and total. */
export interface FilesCounts {
  objects_done: number;
  objects_total: number;
  bytes_done: number;
  bytes_total: number;
}

export interface ActiveJobWithFiles extends ActiveJob {
  /** Null: the job has no file part. */
  files: (FilesCounts & { status: string | null }) | null;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : Number(v ?? 0) || 0);

/** The four counts of a stored files_progress / files_report (both have them), or null. */
export function filesCounts(value: unknown): FilesCounts | null {
  if (!value || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  return { objects_done: num(v.objects_done), objects_total: num(v.objects_total), bytes_done: num(v.bytes_done), bytes_total: num(v.bytes_total) };
}

export async function activeJobsWithFiles(db: Db, tenantId?: string): Promise<ActiveJobWithFiles[]> {
  const jobs = await activeJobs(db, tenantId);
  const backupIds = jobs.filter((j) => j.kind === 'backup').map((j) => j.id);
  const restoreIds = jobs.filter((j) => j.kind === 'restore').map((j) => j.id);
  const [backups, restores] = await Promise.all([
    backupIds.length
      ? db.select({ id: backupJobs.id, includeFiles: backupJobs.includeFiles, progress: backupJobs.filesProgress }).from(backupJobs).where(inArray(backupJobs.id, backupIds))
      : [],
    restoreIds.length
      ? db
          .select({ id: restoreJobs.id, restoreFiles: restoreJobs.restoreFiles, status: restoreJobs.filesStatus, report: restoreJobs.filesReport })
          .from(restoreJobs)
          .where(inArray(restoreJobs.id, restoreIds))
      : [],
  ]);
  const files = new Map<string, ActiveJobWithFiles['files']>();
  for (const b of backups) {
    if (!b.includeFiles) continue;
    const counts = filesCounts(b.progress);
    const status = !counts ? 'pending' : counts.objects_total > 0 && counts.objects_done >= counts.objects_total ? 'completed' : 'running';
    files.set(b.id, { ...(counts ?? { objects_done: 0, objects_total: 0, bytes_done: 0, bytes_total: 0 }), status });
  }
  for (const r of restores) {
    if (!r.restoreFiles) continue;
    const counts = filesCounts(r.report);
    files.set(r.id, { ...(counts ?? { objects_done: 0, objects_total: 0, bytes_done: 0, bytes_total: 0 }), status: r.status });
  }
  return jobs.map((j) => ({ ...j, files: files.get(j.id) ?? null }));
}
