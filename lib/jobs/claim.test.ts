// The queue's SQL on a real database: one claim per job, the dump limit across workers, one dump
// per tenant, expired leases retried with backoff then failed for good, failure only by the holder.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { markFailed } from '../backup/job-rows.ts';
import { getDb, type Db } from '../db/client.ts';
import { backupJobs } from '../db/schema.ts';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import { claimBackupGroup, claimRestore } from './claim.ts';
import { failJob, requeueAborted } from './fail.ts';
import { releaseLease, renewLease } from './lease.ts';
import { recoverExpiredLeases } from './recover.ts';

describe('job queue', () => {
  let stack: TestStack;
  let db: Db;
  before(async () => {
    stack = await startTestStack();
    db = stack.db;
  });
  after(async () => {
    await stack?.stop();
  });
  beforeEach(async () => {
    await db.execute(sql`truncate backup_jobs, restore_jobs cascade`);
  });

  const group = async (tenant: string, tiers = ['s3_standard', 'b2_cold']) => {
    const g = crypto.randomUUID();
    for (const t of tiers) {
      await db.execute(sql`insert into backup_jobs (tenant_id, storage_tier, origin, dump_group) values (${tenant}, ${t}, 'manual', ${g}::uuid)`);
    }
    return g;
  };
  const lease = (workerId: string) => ({ workerId, leaseSeconds: 30, maxConcurrentDumps: 2 });

  it('claims a whole dump group once; at most STRATA_MAX_CONCURRENT_DUMPS across workers', async () => {
    for (let i = 0; i < 6; i++) await group(`t${i}`);
    const pools = Array.from({ length: 4 }, (_, i) => getDb(`${stack.config.DATABASE_URL}?application_name=w${i}`));
    const claims = await Promise.all(pools.flatMap((p, i) => [0, 1, 2].map(() => claimBackupGroup(p, lease(`w${i}`)))));
    const got = claims.filter((c) => c !== null);
    assert.equal(got.length, 2, 'two dumps at once across all workers');
    for (const c of got) {
      assert.equal(c.ids.length, 2, 'both storage tiers of the group');
      assert.equal(c.attempts, 1);
    }
    // Finishing one frees a slot.
    await db.execute(sql`update backup_jobs set status = 'completed' where dump_group = ${got[0]!.key}::uuid`);
    const holder = (await db.execute<{ l: string }>(sql`select locked_by l from backup_jobs where dump_group = ${got[0]!.key}::uuid`)).rows[0]!.l;
    await releaseLease(db, got[0]!, holder);
    assert.ok(await claimBackupGroup(db, lease('w9')));
    assert.equal(await claimBackupGroup(db, lease('w9')), null);
  });

  it('never runs two dumps of one tenant at once', async () => {
    await group('same');
    await group('same');
    const first = await claimBackupGroup(db, { ...lease('a'), maxConcurrentDumps: 5 });
    assert.ok(first);
    assert.equal(await claimBackupGroup(db, { ...lease('b'), maxConcurrentDumps: 5 }), null);
  });

  it('an expired lease is recovered with backoff, then fails for good with a clear error', async () => {
    await group('crashy', ['s3_standard']);
    await db.execute(sql`update backup_jobs set max_attempts = 2`);
    const c1 = await claimBackupGroup(db, { ...lease('dead'), leaseSeconds: 1 });
    assert.ok(c1);
    assert.equal((await recoverExpiredLeases(db, 60)).length, 0, 'lease still live');
    await db.execute(sql`update backup_jobs set lease_expires_at = now() - interval '1 second'`);
    const r1 = await recoverExpiredLeases(db, 60);
    assert.deepEqual(r1.map((r) => [r.status, r.attempts, r.lockedBy]), [['pending', 1, 'dead']]);
    assert.equal(await claimBackupGroup(db, lease('other')), null, 'backoff: not before run_after');
    const wait = (await db.execute<{ s: number }>(sql`select extract(epoch from run_after - now())::float8 s from backup_jobs`)).rows[0]!.s;
    assert.ok(wait > 55 && wait <= 60, `first retry after ~60 s, got ${wait}`);

    await db.execute(sql`update backup_jobs set run_after = now()`);
    const c2 = await claimBackupGroup(db, lease('other'));
    assert.equal(c2?.attempts, 2);
    assert.equal(await renewLease(db, c2!, 'dead', 30), false, 'the dead worker cannot renew');
    assert.equal(await renewLease(db, c2!, 'other', 30), true);
    await db.execute(sql`update backup_jobs set lease_expires_at = now() - interval '1 second'`);
    const r2 = await recoverExpiredLeases(db, 60);
    assert.deepEqual(r2.map((r) => r.status), ['failed']);
    const row = (await db.execute<{ status: string; error_message: string; locked_by: string | null }>(sql`select status, error_message, locked_by from backup_jobs`)).rows[0]!;
    assert.equal(row.status, 'failed');
    assert.equal(row.locked_by, null);
    assert.match(row.error_message, /gave up after 2 attempts: the worker running it stopped renewing its lease/);
  });

  it('failure and requeue touch only rows this worker holds', async () => {
    await group('f', ['s3_standard']);
    const c = await claimBackupGroup(db, lease('holder'));
    assert.ok(c);
    assert.deepEqual(await failJob(db, c, 'intruder', 'boom', 0), { outcome: 'not_held' });
    assert.equal(await requeueAborted(db, c, 'intruder'), 0);
    assert.deepEqual(await failJob(db, c, 'holder', 'pg_dump: connection refused', 10), { outcome: 'retry' });
    let row = (await db.execute<{ status: string; attempts: number; error_message: string }>(sql`select status, attempts, error_message from backup_jobs`)).rows[0]!;
    assert.deepEqual(row, { status: 'pending', attempts: 1, error_message: 'pg_dump: connection refused' });
    // A shutdown abort does not count as an attempt.
    await db.execute(sql`update backup_jobs set run_after = now()`);
    const again = await claimBackupGroup(db, lease('holder'));
    assert.equal(again?.attempts, 2);
    assert.equal(await requeueAborted(db, again!, 'holder'), 1);
    row = (await db.execute<{ status: string; attempts: number; error_message: string }>(sql`select status, attempts, error_message from backup_jobs`)).rows[0]!;
    assert.equal(row.status, 'pending');
    assert.equal(row.attempts, 1);
  });

  it('a backup its runner marked failed, its retry never recorded, goes back to the queue when the lease runs out; a failed restore stays failed', async () => {
    await group('lost', ['s3_standard', 'b2_cold']);
    await group('last', ['s3_standard']);
    await db.execute(sql`update backup_jobs set max_attempts = 1 where tenant_id = 'last'`);
    await db.execute(sql`insert into restore_jobs (tenant_id, mode, target_schema) values ('r', 'in_place', 'r')`);
    const claims = [await claimBackupGroup(db, lease('gone')), await claimBackupGroup(db, lease('gone')), await claimRestore(db, lease('gone'))];
    assert.ok(claims.every(Boolean));
    // What runBackupGroup and a restore runner leave when the worker then loses its database connection.
    await markFailed(db, await db.select().from(backupJobs), 'pg_dump: server closed the connection unexpectedly');
    await db.execute(sql`update restore_jobs set status = 'failed', error_message = 'age: no identity matched'`);
    assert.equal((await recoverExpiredLeases(db, 60)).length, 0, 'leases still live');

    await db.execute(sql`update backup_jobs set lease_expires_at = now() - interval '1 second'`);
    await db.execute(sql`update restore_jobs set lease_expires_at = now() - interval '1 second'`);
    const recovered = await recoverExpiredLeases(db, 60);
    assert.deepEqual(recovered.map((r) => [r.kind, r.tenantId, r.status]).sort(), [['backup', 'last', 'failed'], ['backup', 'lost', 'pending'], ['backup', 'lost', 'pending']]);
    const rows = (
      await db.execute<{ tenant_id: string; status: string; attempts: number; locked_by: string | null; error_message: string; done: boolean }>(sql`
        select tenant_id, status, attempts, locked_by, error_message, completed_at is not null as done from backup_jobs order by tenant_id, storage_tier`)
    ).rows;
    assert.deepEqual(rows, [
      { tenant_id: 'last', status: 'failed', attempts: 1, locked_by: null, error_message: 'failed after 1 attempts: pg_dump: server closed the connection unexpectedly', done: true },
      { tenant_id: 'lost', status: 'pending', attempts: 1, locked_by: null, error_message: 'pg_dump: server closed the connection unexpectedly', done: false },
      { tenant_id: 'lost', status: 'pending', attempts: 1, locked_by: null, error_message: 'pg_dump: server closed the connection unexpectedly', done: false },
    ]);
    const restore = (await db.execute<{ status: string; error_message: string }>(sql`select status, error_message from restore_jobs`)).rows[0]!;
    assert.deepEqual(restore, { status: 'failed', error_message: 'age: no identity matched' });
  });

  it('claims a restore once', async () => {
    await db.execute(sql`insert into restore_jobs (tenant_id, mode, target_schema) values ('r', 'in_place', 'r')`);
    const [a, b] = await Promise.all([claimRestore(db, lease('x')), claimRestore(getDb(`${stack.config.DATABASE_URL}?application_name=y`), lease('y'))]);
    assert.equal([a, b].filter(Boolean).length, 1);
  });
});
