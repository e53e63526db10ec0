// A runner threw instead of recording its own outcome: retry with backoff while attempts remain,
// then fail for good. Touches only rows this worker holds.
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { scrubQueryText } from '../db/errors.ts';
import { backoffSql, QUEUES, type ClaimedJob } from './queues.ts';

export interface FailOutcome {
  /** 'retry': back in the queue after run_after; 'failed': no attempts left; 'not_held': the lease was lost. */
  outcome: 'retry' | 'failed' | 'not_held';
}

/**
 * Also takes rows the runner itself marked failed (runBackupGroup does, then lets the caller decide
 * about a retry): they go back to pending while attempts remain.
 */
export async function failJob(
  db: Db,
  job: ClaimedJob,
  workerId: string,
  error: string,
  retryBaseSeconds: number,
  /** No retry whatever the attempts left: the failure is not one a second try can fix. */
  final = false,
): Promise<FailOutcome> {
  const q = QUEUES[job.kind];
  // A runner's message never carries Drizzle's query text into the row (lib/db/errors.ts).
  const message = scrubQueryText(error).slice(0, 4000);
  const res = await db.execute<{ status: string }>(sql`
    update ${q.table} set locked_by = null, lease_expires_at = null,
      status = case when ${final} or attempts >= max_attempts then 'failed' else 'pending' end,
      run_after = case when ${final} or attempts >= max_attempts then run_after else now() + ${backoffSql(retryBaseSeconds)} end,
      completed_at = case when ${final} or attempts >= max_attempts then coalesce(completed_at, now()) else null end,
      error_message = case when ${final} then coalesce(error_message, ${message})
        when attempts >= max_attempts then 'failed after ' || attempts || ' attempts: ' || ${message}
        else ${message} end
    where ${q.key} = ${job.key}::uuid and locked_by = ${workerId} and status in ('pending', 'running', 'failed')
    returning status`);
  if (res.rows.length === 0) return { outcome: 'not_held' };
  return { outcome: res.rows.some((r) => r.status === 'failed') ? 'failed' : 'retry' };
}

/**
 * The worker is stopping and aborted the job: back to the queue at once, the attempt not counted
 * (whatever the runner recorded on its way out, e.g. "backup cancelled").
 */
export async function requeueAborted(db: Db, job: ClaimedJob, workerId: string): Promise<number> {
  const q = QUEUES[job.kind];
  const res = await db.execute(sql`
    update ${q.table} set locked_by = null, lease_expires_at = null, status = 'pending', run_after = now(),
      attempts = greatest(attempts - 1, 0), completed_at = null,
      error_message = 'interrupted by a worker shutdown; queued again'
    where ${q.key} = ${job.key}::uuid and locked_by = ${workerId} and status in ('pending', 'running', 'failed')`);
  return res.rowCount ?? 0;
}
