// Keeping and giving back a lease. Every statement names the worker (`locked_by = me`): a worker
// that lost its lease (expired, re-claimed by another) can no longer touch the rows.
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { QUEUES, type ClaimedJob } from './queues.ts';

/** Extends the lease; false when this worker no longer holds it (the job must stop). */
export async function renewLease(db: Db, job: ClaimedJob, workerId: string, leaseSeconds: number): Promise<boolean> {
  const q = QUEUES[job.kind];
  const res = await db.execute(sql`
    update ${q.table} set lease_expires_at = now() + make_interval(secs => ${leaseSeconds})
    where ${q.key} = ${job.key}::uuid and locked_by = ${workerId}`);
  return (res.rowCount ?? 0) > 0;
}

/** Gives the lease back once the runner has recorded its outcome (completed, failed …). */
export async function releaseLease(db: Db, job: ClaimedJob, workerId: string): Promise<void> {
  const q = QUEUES[job.kind];
  await db.execute(sql`
    update ${q.table} set locked_by = null, lease_expires_at = null
    where ${q.key} = ${job.key}::uuid and locked_by = ${workerId}`);
}
