// The worker as operators run it: separate processes against one database, real PostgreSQL,
// s3rver and the B2 server. Every due schedule gives exactly one backup, completed once, with the
// dump limit held across processes; a worker killed mid-upload has its job finished by another
// with exactly one stored copy; SIGTERM hands unfinished work back without counting an attempt.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { createBackupGroup } from '../lib/backup/create.ts';
import type { Db } from '../lib/db/client.ts';
import { pgTime } from '../lib/jobs/pg-time.ts';
import { addDailyOnlyPlan, addTinyTenants, makeDue } from '../lib/jobs/test-support.ts';
import { reconcileSchedules } from '../lib/scheduler/reconcile.ts';
import { createStores, type Stores } from '../lib/storage/registry.ts';
import { startTestStack, type TestStack } from '../lib/testing/stack.ts';
import { b2Unfinished, b2Versions, setB2Latency, spawnWorker, waitFor, type WorkerProcess } from './test-support.ts';

const keysUnder = async (stores: Stores, tier: 's3_standard' | 'b2_cold', prefix: string) => {
  const keys: string[] = [];
  for await (const o of stores.forTier(tier).list(prefix)) keys.push(o.key);
  return keys.sort();
};

describe('worker processes', () => {
  let stack: TestStack;
  let db: Db;
  let stores: Stores;
  const workers: WorkerProcess[] = [];
  before(async () => {
    stack = await startTestStack({ B2_PART_SIZE_MB: '5' });
    db = stack.db;
    stores = createStores(stack.config);
  });
  after(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await stack?.stop();
  });
  const start = (extra: Record<string, string>) => {
    const w = spawnWorker({ ...stack.env, STRATA_WORKER_POLL_MS: '200', ...extra });
    workers.push(w);
    return w;
  };
  const count = async (q: ReturnType<typeof sql>) => (await db.execute<{ n: number }>(q)).rows[0]!.n;

  it('4 processes, 320 due schedules: one backup each, each completed once, dump limit held', async () => {
    await addDailyOnlyPlan(db);
    const ids = Array.from({ length: 320 }, (_, i) => `s${String(i).padStart(3, '0')}`);
    await addTinyTenants(db, ids, { plan: 'premium', rows: 2 });
    await reconcileSchedules(db, stack.config);
    await makeDue(db, 600);
    assert.equal(await count(sql`select count(*)::int n from backup_schedules where next_run_at <= now()`), 320);

    const maxDumps = 6;
    const env = { STRATA_WORKER_CONCURRENCY: '3', STRATA_MAX_CONCURRENT_DUMPS: String(maxDumps) };
    const procs = [0, 1, 2, 3].map((i) => start({ ...env, STRATA_WORKER_ID: `many-${i}` }));
    let peak = 0;
    try {
      // ≥ rather than ===: a backup too many must fail the count below, not look like a timeout.
      await waitFor(
        'every backup completed',
        async () => {
          const running = await count(sql`select count(distinct dump_group)::int n from backup_jobs where status = 'running'`);
          peak = Math.max(peak, running);
          return (await count(sql`select count(*)::int n from backup_jobs where status = 'completed'`)) >= 320;
        },
        300_000,
        50,
      );
    } finally {
      // Stopped even when the wait fails, so no process of this test claims the next tests' jobs.
      for (const p of procs) p.child.kill('SIGTERM');
    }
    const exits = await Promise.all(procs.map((p) => p.exited));
    assert.deepEqual(exits.map((e) => e.code), [0, 0, 0, 0], 'clean exit on SIGTERM');

    const rows = (
      await db.execute<{ tenant_id: string; status: string; attempts: number; origin: string; requested_by: string; backup_location: string; locked_by: string | null }>(sql`
        select tenant_id, status, attempts, origin, requested_by, backup_location, locked_by from backup_jobs`)
    ).rows;
    assert.equal(rows.length, 320, 'exactly one backup per schedule');
    assert.equal(new Set(rows.map((r) => r.tenant_id)).size, 320);
    assert.ok(rows.every((r) => r.status === 'completed' && r.attempts === 1 && r.origin === 'daily' && r.requested_by === 'scheduler' && r.locked_by === null));
    assert.ok(peak <= maxDumps, `at most ${maxDumps} dumps at once across processes, saw ${peak}`);

    const finishedBy = procs.map((p) => p.logs.filter((l) => l.msg === 'job finished').length);
    assert.equal(finishedBy.reduce((a, b) => a + b, 0), 320, 'each backup run once');
    assert.ok(finishedBy.filter((n) => n > 0).length >= 2, `work was shared: ${finishedBy.join(', ')}`);
    const fired = procs.flatMap((p) => p.logs.filter((l) => l.msg === 'schedule fired').map((l) => l.tenant_id));
    assert.equal(fired.length, 320);
    assert.equal(new Set(fired).size, 320, 'each schedule fired by exactly one process');

    const schedules = (await db.execute<{ next_run_at: string; last_run_at: string | null }>(sql`select next_run_at, last_run_at from backup_schedules`)).rows;
    assert.ok(schedules.every((s) => s.last_run_at !== null && pgTime(s.next_run_at).getTime() > Date.now()));
    const stored = await keysUnder(stores, 's3_standard', 'backups/');
    assert.equal(stored.length, 960, 'one dump, one manifest and one signature per backup');
    const hb = (await db.execute<{ id: string; stopped_at: string | null }>(sql`select id, stopped_at from worker_heartbeats where id like 'many-%' order by id`)).rows;
    assert.deepEqual(hb.map((h) => [h.id, h.stopped_at !== null]), [0, 1, 2, 3].map((i) => [`many-${i}`, true]));
  });

  it('SIGKILL mid-upload (S3 and B2): another worker finishes it after the lease, one stored copy, no unfinished large file', async () => {
    await db.execute(sql`update backup_schedules set is_paused = true`);
    // ~8 MB of incompressible rows: a B2 large file (5 MB parts) and an S3 multipart upload.
    await addTinyTenants(db, ['big'], { plan: 'basic', rows: 2000, rowBytes: 4096 });
    const rows = await createBackupGroup(db, { tenantId: 'big', storageTiers: ['s3_standard', 'b2_cold'], origin: 'manual', requestedBy: 'test' });
    const group = rows[0]!.dumpGroup;
    await setB2Latency(stack.config, 250); // long enough to kill it in the middle
    const env = { STRATA_LEASE_SECONDS: '3', STRATA_RETRY_BASE_SECONDS: '0' };
    const victim = start({ ...env, STRATA_WORKER_ID: 'victim' });
    await waitFor('the backup to run', async () => (await count(sql`select count(*)::int n from backup_jobs where dump_group = ${group}::uuid and status = 'running'`)) === 2, 30_000, 20);
    await new Promise((r) => setTimeout(r, 200 + Math.floor(Math.random() * 1200)));
    victim.child.kill('SIGKILL');
    await victim.exited;
    const atKill = await count(sql`select count(*)::int n from backup_jobs where dump_group = ${group}::uuid and status = 'completed'`);
    assert.equal(atKill, 0, 'killed before it completed');
    // The victim left an unfinished B2 large file behind (the kill gave it no chance to cancel).
    const leftBehind = await b2Unfinished(stack.config);

    await setB2Latency(stack.config, 0);
    const rescuer = start({ ...env, STRATA_WORKER_ID: 'rescuer' });
    await waitFor(
      'the rescuer to complete the backup',
      async () => (await count(sql`select count(*)::int n from backup_jobs where dump_group = ${group}::uuid and status = 'completed'`)) === 2,
      60_000,
    );
    rescuer.child.kill('SIGTERM');
    assert.equal((await rescuer.exited).code, 0);
    assert.ok(rescuer.logs.some((l) => l.msg === 'lease expired; job queued again with backoff' && l.previous_worker === 'victim'));

    const done = (await db.execute<{ id: string; storage_tier: string; attempts: number; backup_location: string }>(sql`
      select id::text, storage_tier, attempts, backup_location from backup_jobs where dump_group = ${group}::uuid order by storage_tier`)).rows;
    assert.deepEqual(done.map((r) => r.attempts), [2, 2], 'the killed attempt counts');
    for (const r of done) {
      const tier = r.storage_tier as 's3_standard' | 'b2_cold';
      const keys = await keysUnder(stores, tier, 'backups/big/');
      const prefix = r.backup_location.replace(/^\w+:\/\/[^/]+\//, '').replace(/dump\.zst\.age$/, '');
      assert.deepEqual(keys, [`${prefix}dump.zst.age`, `${prefix}manifest.json`, `${prefix}manifest.json.sig`], `exactly one copy in ${tier}`);
    }
    const versions = await b2Versions(stack.config, 'backups/big/');
    assert.deepEqual(versions.map((v) => v.action), ['upload', 'upload', 'upload'], 'no other B2 version (dump, manifest, signature)');
    assert.deepEqual(await b2Unfinished(stack.config), [], `no unfinished large file (${leftBehind.length} left by the victim, cleared)`);
  });

  it('SIGTERM past the grace period: the job is aborted, queued again, the attempt not counted', async () => {
    const rows = await createBackupGroup(db, { tenantId: 'big', storageTiers: ['b2_cold'], origin: 'manual', requestedBy: 'test' });
    const group = rows[0]!.dumpGroup;
    await setB2Latency(stack.config, 400);
    const w = start({ STRATA_SHUTDOWN_GRACE_SECONDS: '0', STRATA_WORKER_ID: 'stopper' });
    await waitFor('the backup to run', async () => (await count(sql`select count(*)::int n from backup_jobs where dump_group = ${group}::uuid and status = 'running'`)) === 1, 30_000, 20);
    w.child.kill('SIGTERM');
    assert.equal((await w.exited).code, 0);
    await setB2Latency(stack.config, 0);
    const row = (await db.execute<{ status: string; attempts: number; locked_by: string | null; error_message: string }>(sql`
      select status, attempts, locked_by, error_message from backup_jobs where dump_group = ${group}::uuid`)).rows[0]!;
    assert.deepEqual(row, { status: 'pending', attempts: 0, locked_by: null, error_message: 'interrupted by a worker shutdown; queued again' });
    assert.deepEqual(await b2Unfinished(stack.config), [], 'the aborted upload was cancelled');
  });

  it('`strata worker` in a terminal: Ctrl-C (SIGINT to its process group) lets the running backup finish', async () => {
    // ~4 MB of incompressible rows read at 1 MB/s: pg_dump, zstd and age are still running at the Ctrl-C.
    await addTinyTenants(db, ['ctrl-c'], { plan: 'basic', rows: 1000, rowBytes: 4096 });
    const rows = await createBackupGroup(db, { tenantId: 'ctrl-c', storageTiers: ['s3_standard'], origin: 'manual', requestedBy: 'test' });
    const id = rows[0]!.id;
    // A shell runs a foreground job in a process group of its own; Ctrl-C signals that whole group.
    const cli = spawn(process.execPath, ['worker/bin/strata.mjs', 'worker'], {
      env: { ...process.env, ...stack.env, STRATA_WORKER_POLL_MS: '200', STRATA_DUMP_MAX_RATE_MB: '1', STRATA_WORKER_ID: 'terminal' },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    let stderr = '';
    cli.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => cli.on('exit', (code) => resolve(code)));
    try {
      await waitFor('the backup to run', async () => (await count(sql`select count(*)::int n from backup_jobs where id = ${id}::uuid and status = 'running'`)) === 1, 60_000, 20);
      await new Promise((r) => setTimeout(r, 1000));
      process.kill(-cli.pid!, 'SIGINT');
      assert.equal(await exited, 0, stderr.slice(-2000));
    } finally {
      if (cli.exitCode === null && cli.signalCode === null) process.kill(-cli.pid!, 'SIGKILL');
    }
    const row = (await db.execute<{ status: string; attempts: number; error_message: string | null }>(sql`
      select status, attempts, error_message from backup_jobs where id = ${id}::uuid`)).rows[0]!;
    assert.deepEqual(row, { status: 'completed', attempts: 1, error_message: null }, 'finished within the grace period');
  });
});
