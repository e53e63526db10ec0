// Maintenance that must run once per period across all workers (prune daily, drills weekly …).
// Each task has one row in periodic_runs; a worker claims a run with one conditional upsert: the
// row is (re)written only when the task never ran or its last run is at least a period old, and
// RETURNING tells this caller whether it won. The database clock decides, never a worker's.
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';

/** True when this caller should run `task` now (and the run is recorded as started by `actor`). */
export async function claimPeriodic(db: Db, task: string, periodSeconds: number, actor: string): Promise<boolean> {
  const res = await db.execute(sql`
    insert into periodic_runs (task, last_run_at, last_run_by, last_result) values (${task}, now(), ${actor}, null)
    on conflict (task) do update set last_run_at = now(), last_run_by = excluded.last_run_by, last_result = null
      where periodic_runs.last_run_at <= now() - make_interval(secs => ${periodSeconds})
    returning task`);
  return res.rows.length === 1;
}

/** Records what the claimed run of `task` reported (a summary object, or `{ error }`). */
export async function recordPeriodicResult(db: Db, task: string, actor: string, result: unknown): Promise<void> {
  await db.execute(sql`
    update periodic_runs set last_result = ${JSON.stringify(result ?? null)}::jsonb
    where task = ${task} and last_run_by = ${actor}`);
}
