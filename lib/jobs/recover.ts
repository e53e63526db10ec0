// Leases that ran out: the worker holding them died (SIGKILL, crash, lost connection) or hung, or
// could not record a backup's retry decision (queues.ts `recoverable`). Their rows go back to the
// queue with exponential backoff, or fail for good once max_attempts claims have been spent. One
// UPDATE per queue; concurrent workers recovering the same rows is harmless (the second one's WHERE
// no longer matches after the first commits).
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { backoffSql, JOB_KINDS, QUEUES, type JobKind } from './queues.ts';

export interface RecoveredJob {
  kind: JobKind;
  id: string;
  tenantId: string;
  status: 'pending' | 'failed';
  attempts: number;
  lockedBy: string;
}

export async function recoverExpiredLeases(db: Db, retryBaseSeconds: number): Promise<RecoveredJob[]> {
  const out: RecoveredJob[] = [];
  for (const kind of JOB_KINDS) {
    const q = QUEUES[kind];
    const res = await db.execute<{ id: string; tenant_id: string; status: 'pending' | 'failed'; attempts: number; locked_by: string }>(sql`
      with expired as (
        select id, locked_by from ${q.table}
        where status in ${q.recoverable} and locked_by is not null and lease_expires_at < now()
        for update skip locked
      )
      update ${q.table} t set locked_by = null, lease_expires_at = null,
        status = case when attempts >= max_attempts then 'failed' else 'pending' end,
        run_after = now() + ${backoffSql(retryBaseSeconds)},
        completed_at = case when attempts >= max_attempts then now() else completed_at end,
        error_message = case
          when attempts < max_attempts then error_message
          -- failed by its runner, the retry decision never recorded: the runner's error is the cause
          when status = 'failed' and error_message is not null then 'failed after ' || attempts || ' attempts: ' || error_message
          else 'gave up after ' || attempts || ' attempts: the worker running it stopped renewing its lease (killed, crashed or lost its database connection); last holder ' || expired.locked_by
          end
      from expired where t.id = expired.id
      returning t.id::text, t.tenant_id, t.status, t.attempts, expired.locked_by`);
    for (const r of res.rows) {
      out.push({ kind, id: r.id, tenantId: r.tenant_id, status: r.status, attempts: r.attempts, lockedBy: r.locked_by });
    }
  }
  return out;
}
