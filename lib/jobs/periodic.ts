// Maintenance that must run once per period across all workers (prune daily, drills weekly):
// the audit log remembers the last run; an advisory lock makes "check, then record" atomic.
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';

/** True when this caller should run `task` now (and the run is recorded as started). */
export async function claimPeriodic(db: Db, task: string, periodSeconds: number, actor: string): Promise<boolean> {
  const action = `worker.${task}`;
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${action}))`);
    const recent = await tx.execute(sql`
      select 1 from audit_log where action = ${action} and at > now() - make_interval(secs => ${periodSeconds}) limit 1`);
    if (recent.rows.length > 0) return false;
    await tx.execute(sql`insert into audit_log (actor, action) values (${actor}, ${action})`);
    return true;
  });
}
