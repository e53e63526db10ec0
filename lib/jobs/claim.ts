// Claim queued jobs, one statement each (graphile-worker getJobs): a CTE picks due rows
// FOR UPDATE SKIP LOCKED and an UPDATE leases them (locked_by, lease_expires_at, attempts + 1).
// Concurrent workers never get the same row; a row stays `pending` until its runner starts it.
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { QUEUES, type ClaimedJob } from './queues.ts';

export interface ClaimOptions {
  workerId: string;
  leaseSeconds: number;
}

interface LeasedRow extends Record<string, unknown> {
  id: string;
  key: string;
  tenant_id: string;
  attempts: number;
  max_attempts: number;
}

function toJob(kind: ClaimedJob['kind'], rows: LeasedRow[]): ClaimedJob | null {
  const first = rows[0];
  if (!first) return null;
  return {
    kind,
    key: first.key,
    tenantId: first.tenant_id,
    ids: rows.map((r) => r.id),
    attempts: Math.max(...rows.map((r) => r.attempts)),
    maxAttempts: Math.min(...rows.map((r) => r.max_attempts)),
  };
}

/** Dump groups holding a live lease: the dumps running right now, on any worker. */
const RUNNING_DUMPS = sql`
  select distinct dump_group, tenant_id from backup_jobs
  where status in ('pending', 'running') and locked_by is not null and lease_expires_at > now()`;

/**
 * Leases the oldest due dump group, all its pending rows at once, if fewer than `maxConcurrentDumps`
 * groups are running across all workers and its tenant has no dump running. Claimers are
 * serialized by a transaction-scoped advisory lock, so the count cannot be raced past the limit.
 */
export async function claimBackupGroup(
  db: Db,
  opts: ClaimOptions & { maxConcurrentDumps: number; /** Only this dump group (the CLI's own job). */ dumpGroup?: string },
): Promise<ClaimedJob | null> {
  const only = opts.dumpGroup === undefined ? sql`` : sql`and b.dump_group = ${opts.dumpGroup}::uuid`;
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('strata.claim.dumps'))`);
    const res = await tx.execute<LeasedRow>(sql`
      with running as (${RUNNING_DUMPS}),
      next_group as (
        select b.dump_group from backup_jobs b
        where b.status = 'pending' and b.locked_by is null and b.run_after <= now() and b.delete_decided_at is null
          and not exists (select 1 from running r where r.tenant_id = b.tenant_id)
          and (select count(*) from running) < ${opts.maxConcurrentDumps}
          ${only}
        order by b.run_after, b.seq
        limit 1
        for update skip locked
      ),
      grouped as (
        select id from backup_jobs
        where dump_group in (select dump_group from next_group) and status = 'pending' and locked_by is null
          and delete_decided_at is null
        for update skip locked
      )
      update backup_jobs set locked_by = ${opts.workerId},
        lease_expires_at = now() + make_interval(secs => ${opts.leaseSeconds}),
        attempts = attempts + 1
      where id in (select id from grouped)
      returning id::text, dump_group::text as key, tenant_id, attempts, max_attempts`);
    return toJob('backup', res.rows);
  });
}

/**
 * Leases the oldest due row of a one-row-per-job queue: a restore (one per tenant at a time is a
 * unique index already) or a verification (requested with `strata verify`, or a drill).
 */
async function claimOne(db: Db, kind: 'restore' | 'verify', opts: ClaimOptions & { /** Only this row (the CLI's own job). */ id?: string }): Promise<ClaimedJob | null> {
  const { table } = QUEUES[kind];
  const only = opts.id === undefined ? sql`` : sql`and id = ${opts.id}::uuid`;
  const res = await db.execute<LeasedRow>(sql`
    with next_job as (
      select id from ${table}
      where status = 'pending' and locked_by is null and run_after <= now() ${only}
      order by run_after, seq
      limit 1
      for update skip locked
    )
    update ${table} set locked_by = ${opts.workerId},
      lease_expires_at = now() + make_interval(secs => ${opts.leaseSeconds}),
      attempts = attempts + 1
    where id in (select id from next_job)
    returning id::text, id::text as key, tenant_id, attempts, max_attempts`);
  return toJob(kind, res.rows);
}

export const claimRestore = (db: Db, opts: ClaimOptions & { id?: string }) => claimOne(db, 'restore', opts);
export const claimVerification = (db: Db, opts: ClaimOptions & { id?: string }) => claimOne(db, 'verify', opts);
