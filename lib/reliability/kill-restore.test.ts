// Fault: SIGKILL of a worker process at a random point of an in-place restore and of its undo,
// from S3 and from B2. Right after the kill the live tenant is exactly as before (fingerprint)
// unless the restore had committed; another worker then finishes the job, and the tenant is
// exactly the backup (restore) or exactly the pre-restore copy (undo). A verification or a clone
// killed mid-way leaves a scratch database and a temp dir; once the job is settled, the sweep
// (worker/leftovers.ts) leaves none.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { quoteIdent } from '../db/ident.ts';
import { backupVerifications, restoreJobs, type BackupJobRow } from '../db/schema.ts';
import { addTinyTenants } from '../jobs/test-support.ts';
import { createRestore, createUndo } from '../restore/create.ts';
import { runRestore } from '../restore/run-restore.ts';
import { createStores, type Stores } from '../storage/registry.ts';
import { createTestBackups } from '../testing/fixture-backup.ts';
import { fingerprint, type Fingerprint } from '../testing/fixture-tenant.ts';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import { sweepLeftovers } from '../../worker/leftovers.ts';
import { catalogTexts, leakedSecrets, randomInt, runCase, secretsOfEnv, sleep, strayLeftovers, strayRestoreSchemas, waitUntil } from './harness.ts';
import { FAST_WORKER_ENV, killVictim, rescue, startVictim, workerLogLines } from './workers.ts';

const SCHEMA = 't_kr';

describe('SIGKILL of a worker during a restore and an undo (S3 and B2)', () => {
  let stack: TestStack;
  let db: Db;
  let stores: Stores;
  let url: string;
  let backups: Record<string, BackupJobRow>;
  let backupFp: Fingerprint;
  before(async () => {
    stack = await startTestStack({ B2_PART_SIZE_MB: '5', ...FAST_WORKER_ENV });
    db = stack.db;
    url = stack.config.DATABASE_URL;
    stores = createStores(stack.config);
    await addTinyTenants(db, ['kr'], { plan: 'basic', rows: 3000, rowBytes: 256 });
    backups = await createTestBackups({ db, config: stack.config, stores }, 'kr', ['s3_standard', 'b2_cold']);
    backupFp = await fingerprint(url, SCHEMA);
  });
  after(async () => {
    await stack?.stop();
  });

  const statusOf = async (id: string) => (await db.select({ s: restoreJobs.status }).from(restoreJobs).where(eq(restoreJobs.id, id)))[0]!.s;
  const settled = (id: string) => async () => ['completed', 'failed'].includes(await statusOf(id));
  /** The live tenant moves on after the backup, so a half-restore would show. */
  const change = async (i: number) => {
    await db.execute(sql.raw(`insert into ${quoteIdent(SCHEMA)}.notes values (${100_000 + i}, '\\x00${i.toString(16).padStart(2, '0')}')`));
    await db.execute(sql.raw(`delete from ${quoteIdent(SCHEMA)}.notes where id = ${1 + i}`));
  };
  const dropAside = async () => {
    const rows = (await db.execute<{ nspname: string }>(sql`select nspname from pg_namespace where nspname like 'strata\_undo\_%'`)).rows;
    for (const r of rows) await db.execute(sql.raw(`drop schema ${quoteIdent(r.nspname)} cascade`));
  };

  /**
   * Starts a victim on the queued restore, kills it at a random point of the job; returns the status
   * then — 'completed' as soon as the swap committed: the swap's transaction commits with its marker
   * (lib/restore/swap-marker.ts) and the row is recorded completed from it just after, so a kill in
   * between finds the tenant swapped and a row the rescuer completes without replaying.
   */
  async function killDuring(restoreId: string, id: string, maxMs: number): Promise<string> {
    const victim = startVictim(stack.env, id);
    try {
      await waitUntil('the restore to start', async () => (await statusOf(restoreId)) !== 'pending', 60_000, 20);
      await sleep(randomInt(0, maxMs));
    } finally {
      await killVictim(victim);
    }
    const committed = await db.execute(sql`select 1 from restore_swaps where restore_id = ${restoreId}`);
    return committed.rows.length > 0 ? 'completed' : statusOf(restoreId);
  }

  let restoreMs = 0;
  it('restore: killed at a random point, the live tenant whole; rescued by another worker', async () => {
    // An undisturbed restore's duration: the kill lands anywhere in [0, 1.2 × that].
    await change(0);
    const calib = await createRestore(db, { backupId: backups.s3_standard!.id, mode: 'in_place', requestedBy: 'chaos' });
    const t0 = Date.now();
    await runRestore({ db, config: stack.config, stores }, calib.id);
    restoreMs = Date.now() - t0;
    await dropAside();

    await runCase('SIGKILL during a restore (S3 / B2)', 'fault', async (i) => {
      const tier = i % 2 === 0 ? 's3_standard' : 'b2_cold';
      await change(i + 1);
      const live = await fingerprint(url, SCHEMA);
      const restore = await createRestore(db, { backupId: backups[tier]!.id, mode: 'in_place', requestedBy: 'chaos' });
      const atKill = await killDuring(restore.id, `kr-victim-${i}`, Math.round(restoreMs * 1.2));
      if (atKill !== 'completed') assert.deepEqual(await fingerprint(url, SCHEMA), live, 'killed before commit: the live tenant is exactly as it was');
      assert.deepEqual(await strayRestoreSchemas(db), []);
      await rescue(stack.config, `kr-rescuer-${i}`, settled(restore.id));
      const [row] = await db.select().from(restoreJobs).where(eq(restoreJobs.id, restore.id));
      assert.equal(row!.status, 'completed', `the rescued restore: ${row!.errorMessage}`);
      assert.deepEqual(await fingerprint(url, SCHEMA), backupFp, 'the tenant is exactly the backup');
      assert.deepEqual(await fingerprint(url, row!.movedAsideSchema!), live, 'the moved-aside copy is the pre-restore tenant');
      await dropAside();
      const where = tier === 's3_standard' ? 'S3' : 'B2';
      return atKill === 'completed' ? `${where}: completed before the kill` : `${where}: killed mid-restore, tenant untouched → completed after rescue`;
    });
  });

  it('undo: killed at a random point, the tenant is one version or the other, never a mix', async () => {
    await runCase('SIGKILL during an undo', 'fault', async (i) => {
      const tier = i % 2 === 0 ? 'b2_cold' : 's3_standard';
      await change(50 + i);
      const before = await fingerprint(url, SCHEMA);
      const restore = await createRestore(db, { backupId: backups[tier]!.id, mode: 'in_place', requestedBy: 'chaos' });
      await runRestore({ db, config: stack.config, stores }, restore.id);
      const restored = await fingerprint(url, SCHEMA);
      const undo = await createUndo(db, { restoreId: restore.id, requestedBy: 'chaos' });
      const atKill = await killDuring(undo.id, `ku-victim-${i}`, 400);
      const now = await fingerprint(url, SCHEMA);
      if (atKill === 'completed') assert.deepEqual(now, before);
      else assert.deepEqual(now, restored, 'killed before commit: still the restored version');
      await rescue(stack.config, `ku-rescuer-${i}`, settled(undo.id));
      const [row] = await db.select().from(restoreJobs).where(eq(restoreJobs.id, undo.id));
      assert.equal(row!.status, 'completed', `the rescued undo: ${row!.errorMessage}`);
      assert.deepEqual(await fingerprint(url, SCHEMA), before, 'the undo brought the pre-restore tenant back exactly');
      assert.deepEqual(await fingerprint(url, row!.movedAsideSchema!), restored, 'the restored version is kept aside');
      assert.equal(await statusOf(restore.id), 'undone');
      await dropAside();
      return atKill === 'completed' ? 'completed before the kill' : 'killed mid-undo, tenant untouched → completed after rescue';
    });
  });

  it('verification and clone: killed at a random point; once settled, no scratch database or temp dir is left', async () => {
    const verificationStatus = async (id: string) => (await db.select({ s: backupVerifications.status }).from(backupVerifications).where(eq(backupVerifications.id, id)))[0]!.s;
    const queueVerification = async (tier: string) =>
      (await db.insert(backupVerifications).values({ backupId: backups[tier]!.id, tenantId: 'kr', requestedBy: 'chaos' }).returning({ id: backupVerifications.id }))[0]!.id;
    // An undisturbed verification's duration: the kill lands anywhere in [0, 1.2 × that].
    const calib = await queueVerification('s3_standard');
    const t0 = Date.now();
    await rescue(stack.config, 'kv-calibration', async () => ['passed', 'failed'].includes(await verificationStatus(calib)));
    const verifyMs = Date.now() - t0;
    assert.equal(await verificationStatus(calib), 'passed');

    await runCase('SIGKILL during a verification or a clone: leftovers swept', 'fault', async (i) => {
      const tier = i % 2 === 0 ? 's3_standard' : 'b2_cold';
      const clone = i % 4 >= 2;
      const target = `t_kr_clone_${i}`;
      const job = clone
        ? { id: (await createRestore(db, { backupId: backups[tier]!.id, mode: 'clone', targetSchema: target, requestedBy: 'chaos' })).id, status: statusOf, done: ['completed', 'failed'] }
        : { id: await queueVerification(tier), status: verificationStatus, done: ['passed', 'failed'] };
      const victim = startVictim(stack.env, `kv-victim-${i}`);
      try {
        await waitUntil('the job to start', async () => (await job.status(job.id)) !== 'pending', 60_000, 20);
        await sleep(randomInt(0, Math.round(verifyMs * 1.2)));
      } finally {
        await killVictim(victim);
      }
      const atKill = await strayLeftovers(db, stack.config);
      await rescue(stack.config, `kv-rescuer-${i}`, async () => job.done.includes(await job.status(job.id)));
      assert.equal(await job.status(job.id), clone ? 'completed' : 'passed', 'the rescued job succeeded');
      const swept = await sweepLeftovers({ db, config: stack.config });
      assert.deepEqual(swept.failed, []);
      assert.deepEqual(await strayLeftovers(db, stack.config), [], 'no scratch database or temp dir left');
      const removed = [...swept.databases.map((n) => `database ${n}`), ...swept.dirs.map((n) => `temp dir ${n}`)];
      for (const l of atKill) assert.ok(removed.includes(l), `${l}, left by the kill, was removed by the sweep`);
      if (clone) await db.execute(sql.raw(`drop schema if exists ${quoteIdent(target)} cascade`));
      return `${clone ? 'clone' : 'verification'} (${tier === 's3_standard' ? 'S3' : 'B2'}): ${atKill.length ? `killed with ${atKill.length} leftover(s) → swept` : 'killed before it made any'}`;
    });
  });

  it('no secret in worker logs, job errors or the audit log after these runs', async () => {
    const leaks = leakedSecrets({ 'worker logs': workerLogLines.join('\n'), ...(await catalogTexts(db)) }, secretsOfEnv(stack.env));
    assert.deepEqual(leaks, []);
  });
});
