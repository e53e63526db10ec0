// Copies per origin, end to end with a worker (issue 14 "Done when"): a premium tenant under the
// cost-optimized preset gets one dump stored in S3 Standard and in B2 for one due daily (two copies,
// one backup point) — incremental copies as the preset ships, full dumps with --incremental none;
// once the S3 copy's day has passed, prune deletes the S3 copy only and a restore of that backup
// point reads the B2 copy and is exact; a Sunday's coinciding daily and weekly store one B2 object,
// not two.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { changeLayout } from '../api/operations/policy-layout.ts';
import { changeBackupTypes } from '../api/operations/policy-backup-types.ts';
import type { Db } from '../db/client.ts';
import type { Config } from '../env.ts';
import { pgTime } from '../jobs/pg-time.ts';
import { runPrune } from '../prune/run-prune.ts';
import { createRestore } from '../restore/create.ts';
import { runRestore } from '../restore/run-restore.ts';
import { verifyBackup, type VerificationDetails } from '../restore/verify.ts';
import { requestVerification } from '../api/operations/verify.ts';
import { createStores, type Stores } from '../storage/registry.ts';
import { parseLocation } from '../storage/types.ts';
import { createFixtureTenant, fingerprint } from '../testing/fixture-tenant.ts';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import { waitFor } from '../../worker/test-support.ts';
import { runWorker } from '../../worker/worker.ts';
import { reconcileSchedules } from '../scheduler/reconcile.ts';

const DAY = 86_400_000;

interface Row extends Record<string, unknown> {
  id: string;
  origin: string;
  storage_tier: string;
  status: string;
  backup_type: string;
  dump_group: string;
  layout: string | null;
  backup_location: string | null;
  completed_at: string | null;
  expires_at: string | null;
}

describe('copies per origin (cost-optimized, with a worker)', () => {
  let stack: TestStack;
  let db: Db;
  let config: Config;
  let stores: Stores;

  before(async () => {
    stack = await startTestStack();
    db = stack.db;
    config = { ...stack.config, STRATA_WORKER_POLL_MS: 100, STRATA_RETRY_BASE_SECONDS: 0 };
    stores = createStores(config);
    const change = await changeLayout(db, config, { plan: 'premium', layout: 'cost-optimized', actor: 'test:admin', dryRun: false });
    assert.equal(change.from, 'seed');
    assert.deepEqual(change.stores.after, ['s3_standard', 'b2_cold']);
    assert.deepEqual(change.backup_types.after, { daily: 'incremental', weekly: 'full', monthly: 'full' }, 'the preset makes dailies incremental');
  });
  after(async () => {
    await stack?.stop();
  });

  const withWorker = async (fn: () => Promise<unknown>) => {
    const stop = new AbortController();
    const done = runWorker(config, { signal: stop.signal, id: 'copies', log: pino({ level: 'silent' }), maintenance: false });
    try {
      await fn();
    } finally {
      stop.abort();
      await done;
    }
  };
  const rowsOf = async (tenant: string) =>
    (
      await db.execute<Row>(sql`
        select id::text, origin, storage_tier, status, backup_type, dump_group::text, layout, backup_location, completed_at, expires_at
        from backup_jobs where tenant_id = ${tenant} order by storage_tier desc`)
    ).rows;
  const keptDays = (r: Row) => (pgTime(r.expires_at!).getTime() - pgTime(r.completed_at!).getTime()) / DAY;
  const objectsUnder = async (tier: 's3_standard' | 'b2_cold', prefix: string) => {
    const keys: string[] = [];
    for await (const o of stores.forTier(tier).list(prefix)) keys.push(o.key);
    return keys;
  };
  /** Only these schedule types of the tenant are due now; the others are days away (they do not join). */
  const dueOnly = async (tenant: string, due: Record<string, string>) => {
    await db.execute(sql`update backup_schedules set next_run_at = now() + interval '3 days' where tenant_id = ${tenant}`);
    for (const [type, offset] of Object.entries(due)) {
      await db.execute(sql`update backup_schedules set next_run_at = now() + ${offset}::interval where tenant_id = ${tenant} and schedule_type = ${type}`);
    }
  };

  it('one due daily (incremental, as the preset ships): two copies of one dump; a day later prune deletes the S3 copy only; the restore reads B2 and is exact', async () => {
    await hotCold('hotcold', 'incremental');
  });

  it('the same with full dailies (--incremental none)', async () => {
    await changeBackupTypes(db, { plan: 'premium', incrementalOrigins: [], actor: 'test:admin', dryRun: false });
    await hotCold('hotcold-full', 'full');
  });

  /** A copy's own object: the dump of a full copy; the chunk list (manifest) of an incremental one. */
  async function hotCold(tenantId: string, backupType: 'full' | 'incremental') {
    const own = backupType === 'full' ? 'dump.zst.age' : 'manifest.json';
    const { schemaName } = await createFixtureTenant(config.DATABASE_URL, { tenantId, schemaName: tenantId.replaceAll('-', '_'), rows: 2000 });
    const original = await fingerprint(config.DATABASE_URL, schemaName);
    await reconcileSchedules(db, config);
    const schedules = (await db.execute<{ schedule_type: string; storage_tier: string }>(sql`
      select schedule_type, storage_tier from backup_schedules where tenant_id = ${tenantId} order by id`)).rows;
    assert.deepEqual(schedules.map((s) => [s.schedule_type, s.storage_tier]), [['daily', 's3_standard'], ['weekly', 'b2_cold'], ['monthly', 'b2_cold']]);

    await dueOnly(tenantId, { daily: '-5 minutes' });
    await withWorker(() => waitFor('two completed copies', async () => (await rowsOf(tenantId)).filter((r) => r.status === 'completed').length === 2, 90_000));
    const rows = await rowsOf(tenantId);
    assert.equal(rows.length, 2, 'exactly two stored objects');
    const [s3, b2] = rows as [Row, Row];
    assert.deepEqual([s3.storage_tier, s3.origin, s3.layout, s3.backup_type], ['s3_standard', 'daily', 'cost-optimized', backupType]);
    assert.deepEqual([b2.storage_tier, b2.origin, b2.layout, b2.backup_type], ['b2_cold', 'daily', 'cost-optimized', backupType]);
    assert.equal(s3.dump_group, b2.dump_group, 'one backup point');
    assert.equal(keptDays(s3), 1, 'the hot copy is kept one day');
    assert.equal(keptDays(b2), 7, 'the B2 copy is kept the daily window');
    const prefixOf = (r: Row) => {
      const { key } = parseLocation(r.backup_location!);
      return key.slice(0, key.lastIndexOf('/') + 1);
    };
    const stored = async (tier: 's3_standard' | 'b2_cold', r: Row) => (await objectsUnder(tier, prefixOf(r))).map((k) => k.slice(prefixOf(r).length)).sort();
    assert.ok((await stored('s3_standard', s3)).includes(own), `the ${own} in S3`);
    assert.ok((await stored('s3_standard', s3)).includes('manifest.json'), 'its manifest in S3');
    assert.ok((await stored('b2_cold', b2)).includes(own), `the ${own} in B2`);

    // A verification reads the cheapest copy to read (S3 Standard) whichever copy it names, unless
    // exactly the named one is asked for: directly, and queued for the worker as the CLI does.
    const ctx = { db, config, stores };
    const byB2 = await verifyBackup(ctx, b2.id, { requestedBy: 'test' });
    assert.deepEqual([byB2.status, byB2.backupId, byB2.copyBackupId, byB2.exactCopy], ['passed', b2.id, s3.id, false], byB2.errorMessage ?? '');
    assert.equal((byB2.details as VerificationDetails).backup_location, s3.backup_location);
    const admin = { name: 'test:admin', role: 'admin' as const, via: 'cli' as const, email: null };
    const queued = await requestVerification(db, admin, b2.id, { exactCopy: true });
    const readBy = async () => (await db.execute<{ status: string; copy_backup_id: string | null }>(sql`
      select status, copy_backup_id::text from backup_verifications where id = ${queued.id}::uuid`)).rows[0]!;
    await withWorker(() => waitFor('the exact-copy verification', async () => (await readBy()).status === 'passed', 90_000));
    assert.equal((await readBy()).copy_backup_id, b2.id, 'exactly the B2 copy was read');

    // The clock moves a day and a minute past completion: the S3 copy has expired, the B2 one has not.
    const later = new Date(pgTime(s3.completed_at!).getTime() + DAY + 60_000);
    const pruned = await runPrune({ db, config, stores, now: later }, { dryRun: false });
    assert.deepEqual(pruned.failed, []);
    assert.deepEqual(
      pruned.decisions.filter((d) => d.action === 'delete').map((d) => d.backup_id),
      [s3.id],
      'only the S3 copy is deleted',
    );
    const afterPrune = await rowsOf(tenantId);
    assert.deepEqual(afterPrune.map((r) => [r.storage_tier, r.status]), [['s3_standard', 'deleted'], ['b2_cold', 'completed']]);
    assert.deepEqual(await objectsUnder('s3_standard', prefixOf(s3)), [], 'the S3 copy is gone');
    assert.ok((await stored('b2_cold', b2)).includes(own), 'the B2 copy stays');
    const byDeletedS3 = await verifyBackup(ctx, s3.id, { requestedBy: 'test' });
    assert.deepEqual([byDeletedS3.status, byDeletedS3.copyBackupId], ['passed', b2.id], 'with the S3 copy gone, the B2 copy is read');

    // Damage the tenant, then restore the backup point by the id of its (now deleted) S3 copy.
    await db.execute(sql.raw(`DELETE FROM "${schemaName.replaceAll('"', '""')}".events WHERE id % 2 = 0`));
    assert.notDeepEqual(await fingerprint(config.DATABASE_URL, schemaName), original);
    const restore = await createRestore(db, { backupId: s3.id, mode: 'in_place', requestedBy: 'test' });
    const done = await runRestore({ db, config, stores }, restore.id);
    assert.equal(done.status, 'completed', done.errorMessage ?? '');
    assert.equal(done.copyBackupId, b2.id, 'the restore says it read the B2 copy');
    assert.deepEqual(await fingerprint(config.DATABASE_URL, schemaName), original, 'exact');

    // An admin asking for exactly the deleted copy is refused: the choice is explicit.
    await assert.rejects(createRestore(db, { backupId: s3.id, mode: 'in_place', requestedBy: 'test', exactCopy: true }), /deleted/);
  }

  it("a Sunday's coinciding daily and weekly store one B2 object, not two", async () => {
    await changeBackupTypes(db, { plan: 'premium', incrementalOrigins: ['daily'], actor: 'test:admin', dryRun: false });
    await createFixtureTenant(config.DATABASE_URL, { tenantId: 'sunday', schemaName: 'sunday_schema', rows: 500 });
    await reconcileSchedules(db, config);
    await dueOnly('sunday', { daily: '-5 minutes', weekly: '55 minutes' });
    await withWorker(() => waitFor('the backup point', async () => (await rowsOf('sunday')).filter((r) => r.status === 'completed').length === 2, 90_000));
    const rows = await rowsOf('sunday');
    assert.deepEqual(
      rows.map((r) => [r.storage_tier, r.origin, Math.round(keptDays(r))]),
      [['s3_standard', 'daily', 1], ['b2_cold', 'weekly', 28]],
      'the daily and weekly B2 copies merged into one with the longest keep',
    );
    assert.deepEqual([...new Set(rows.map((r) => r.backup_type))], ['full'], 'a point that is also the weekly is full (weekly is not incremental)');
    const dumps = (await objectsUnder('b2_cold', 'backups/sunday/')).filter((k) => k.endsWith('/dump.zst.age'));
    assert.equal(dumps.length, 1, 'one B2 object');
    const fired = (await db.execute<{ schedule_type: string; last_run_at: string | null }>(sql`
      select schedule_type, last_run_at from backup_schedules where tenant_id = 'sunday' order by id`)).rows;
    assert.deepEqual(fired.map((s) => [s.schedule_type, s.last_run_at !== null]), [['daily', true], ['weekly', true], ['monthly', false]]);
  });
});
