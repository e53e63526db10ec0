// Prune against real stores: decide, record, delete — objects gone from S3 and B2, a crash after
// recording finished by the next run, dry run = real decisions, orphans, policy edits, downgrade, purge.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { backupKey } from '../backup/manifest.ts';
import type { Db } from '../db/client.ts';
import type { Origin, StorageTier } from '../domain.ts';
import { pgTime, pgTimeOrNull } from '../jobs/pg-time.ts';
import { addTinyTenants } from '../jobs/test-support.ts';
import { updatePolicy } from '../api/operations/policy.ts';
import { PurgeRefusedError } from '../retention/decisions.ts';
import { reconcileSchedules } from '../scheduler/reconcile.ts';
import { createStores, type Stores } from '../storage/registry.ts';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import { recomputeExpiries } from './recompute-expiries.ts';
import { removeTenant } from './remove-tenant.ts';
import { runPrune } from './run-prune.ts';

const DAY = 86_400_000;

describe('prune', () => {
  let stack: TestStack;
  let db: Db;
  let stores: Stores;
  before(async () => {
    stack = await startTestStack();
    db = stack.db;
    stores = createStores(stack.config);
  });
  after(async () => {
    await stack?.stop();
  });
  beforeEach(async () => {
    await db.execute(sql`truncate backup_jobs, backup_schedules, tenant_state, tenants, tenant_subscriptions, audit_log`);
    await db.execute(sql`update backup_retention_policies set daily_retention_days = 7 where tier_id = 'premium'`);
    for (const store of [stores.forTier('s3_standard'), stores.forTier('b2_cold')]) {
      for await (const o of store.list('backups/')) await store.delete(o.key);
    }
  });

  interface Fake {
    tenant: string;
    tier?: StorageTier;
    origin?: Origin;
    ageDays: number;
    /** Days from now; negative = expired. */
    expiresInDays: number | null;
    status?: 'completed' | 'failed';
    legalHold?: boolean;
    tierId?: string;
  }
  /** A backup row and its objects as the engine leaves them (contents do not matter to prune). */
  const fake = async (f: Fake) => {
    const id = randomUUID();
    const tier = f.tier ?? 's3_standard';
    const store = stores.forTier(tier);
    const startedAt = new Date(Math.floor((Date.now() - f.ageDays * DAY) / 1000) * 1000);
    const prefix = backupKey(f.tenant, startedAt, id);
    await store.put(`${prefix}dump.zst.age`, Buffer.from(`dump of ${id}`));
    if ((f.status ?? 'completed') === 'completed') await store.put(`${prefix}manifest.json`, Buffer.from('{}'));
    if (f.legalHold) await store.put(`${prefix}legal-hold`, Buffer.from(''));
    const expires = f.expiresInDays === null ? null : new Date(Date.now() + f.expiresInDays * DAY);
    await db.execute(sql`
      insert into backup_jobs (id, tenant_id, tier_id, storage_tier, origin, status, started_at, completed_at, expires_at, legal_hold, backup_location)
      values (${id}::uuid, ${f.tenant}, ${f.tierId ?? 'premium'}, ${tier}, ${f.origin ?? 'daily'}, ${f.status ?? 'completed'}, ${startedAt},
        ${new Date(startedAt.getTime() + 60_000)}, ${expires}, ${f.legalHold ?? false}, ${store.location(`${prefix}dump.zst.age`)})`);
    return { id, prefix, store };
  };
  const keys = async (tier: StorageTier, prefix: string) => {
    const out: string[] = [];
    for await (const o of stores.forTier(tier).list(prefix)) out.push(o.key);
    return out;
  };
  const statusOf = async (id: string) =>
    (await db.execute<{ status: string; delete_reason: string | null; deleted_at: string | null; delete_decided_at: string | null }>(sql`
      select status, delete_reason, deleted_at, delete_decided_at from backup_jobs where id = ${id}::uuid`)).rows[0]!;

  it('deletes what the decisions say from both stores; the dry run gives the same decisions', async () => {
    await addTinyTenants(db, ['keep'], { plan: 'premium' });
    await reconcileSchedules(db, stack.config);
    const old = await fake({ tenant: 'keep', ageDays: 10, expiresInDays: -3 });
    const oldCold = await fake({ tenant: 'keep', tier: 'b2_cold', origin: 'monthly', ageDays: 400, expiresInDays: -30 });
    const held = await fake({ tenant: 'keep', ageDays: 9, expiresInDays: -2, legalHold: true });
    const failed = await fake({ tenant: 'keep', tier: 'b2_cold', ageDays: 1, expiresInDays: null, status: 'failed' });
    const fresh = await fake({ tenant: 'keep', ageDays: 1, expiresInDays: 6 });
    // A removed tenant: no newest-backup floor.
    const gone = await fake({ tenant: 'gone', ageDays: 20, expiresInDays: -1 });
    // Objects without a manifest and without a row: an upload that died.
    const orphanPrefix = backupKey('keep', new Date(), randomUUID());
    await stores.forTier('b2_cold').put(`${orphanPrefix}dump.zst.age`, Buffer.from('partial'));
    const later = new Date(Date.now() + 25 * 3_600_000); // the orphan is then older than 24 h

    const dry = await runPrune({ db, config: stack.config, stores, now: later }, { dryRun: true });
    assert.equal((await statusOf(old.id)).delete_decided_at, null, 'a dry run records nothing');
    assert.equal((await keys('s3_standard', old.prefix)).length, 2);
    const real = await runPrune({ db, config: stack.config, stores, now: later }, { dryRun: false });
    assert.deepEqual(real.decisions, dry.decisions);
    assert.deepEqual(real.failed, []);
    const action = new Map(real.decisions.map((d) => [d.backup_id, d.action]));
    assert.equal(action.get(old.id), 'delete');
    assert.equal(action.get(oldCold.id), 'delete');
    assert.equal(action.get(failed.id), 'delete');
    assert.equal(action.get(gone.id), 'delete');
    assert.equal(action.get(held.id), 'keep');
    assert.equal(action.get(fresh.id), 'keep');
    assert.equal(real.decisions.find((d) => orphanPrefix.includes(d.backup_id))?.action, 'delete');

    for (const b of [old, gone]) assert.deepEqual(await keys('s3_standard', b.prefix), []);
    for (const b of [oldCold, failed]) assert.deepEqual(await keys('b2_cold', b.prefix), []);
    assert.deepEqual(await keys('b2_cold', orphanPrefix), []);
    assert.deepEqual((await keys('s3_standard', held.prefix)).sort(), [`${held.prefix}dump.zst.age`, `${held.prefix}legal-hold`, `${held.prefix}manifest.json`]);
    assert.equal((await keys('s3_standard', fresh.prefix)).length, 2);
    const s = await statusOf(old.id);
    assert.equal(s.status, 'deleted');
    assert.match(s.delete_reason!, /^expired /);
    assert.ok(s.deleted_at);
    assert.equal((await statusOf(held.id)).status, 'completed');

    const again = await runPrune({ db, config: stack.config, stores, now: later }, { dryRun: false });
    assert.deepEqual(again.decisions.filter((d) => d.action === 'delete'), [], 'nothing left to delete');
  });

  it('a prune that stops after recording is finished by the next run', async () => {
    await addTinyTenants(db, ['crash'], { plan: 'premium' });
    const a = await fake({ tenant: 'crash', ageDays: 12, expiresInDays: -5 });
    const b = await fake({ tenant: 'crash', tier: 'b2_cold', ageDays: 11, expiresInDays: -4 });
    await fake({ tenant: 'crash', ageDays: 1, expiresInDays: 6 });
    await assert.rejects(
      runPrune({ db, config: stack.config, stores, afterRecord: () => { throw new Error('power cut'); } }, { dryRun: false }),
      /power cut/,
    );
    for (const x of [a, b]) {
      const s = await statusOf(x.id);
      assert.equal(s.status, 'completed');
      assert.ok(s.delete_decided_at, 'recorded before anything was deleted');
    }
    assert.equal((await keys('s3_standard', a.prefix)).length, 2);
    const dry = await runPrune({ db, config: stack.config, stores }, { dryRun: true });
    const rerun = await runPrune({ db, config: stack.config, stores }, { dryRun: false });
    assert.deepEqual(rerun.decisions, dry.decisions);
    assert.deepEqual(rerun.decisions.filter((d) => d.action === 'delete').map((d) => d.backup_id).sort(), [a.id, b.id].sort());
    assert.equal((await statusOf(a.id)).status, 'deleted');
    assert.equal((await statusOf(b.id)).status, 'deleted');
    assert.deepEqual(await keys('s3_standard', a.prefix), []);
    assert.deepEqual(await keys('b2_cold', b.prefix), []);
  });

  it('a policy edit recomputes expires_at of that plan\'s backups; its preview is the save rolled back; a downgrade keeps them', async () => {
    await addTinyTenants(db, ['pe'], { plan: 'premium' });
    const threeDays = await fake({ tenant: 'pe', ageDays: 3, expiresInDays: 4 });
    const newest = await fake({ tenant: 'pe', ageDays: 0.5, expiresInDays: 6.5 });
    const expiry = async (id: string) =>
      pgTimeOrNull((await db.execute<{ e: string | null }>(sql`select expires_at e from backup_jobs where id = ${id}::uuid`)).rows[0]!.e);
    const before3 = await expiry(threeDays.id);

    // Downgrade: the tenant's plan changes, its backups keep their expiry.
    await db.execute(sql`update tenant_subscriptions set tier_id = 'basic' where tenant_id = 'pe'`);
    await reconcileSchedules(db, stack.config);
    const basic = await recomputeExpiries(db, 'basic', stack.config);
    assert.deepEqual(basic.changed, []);
    assert.equal((await expiry(threeDays.id))?.getTime(), before3?.getTime());
    let pruned = await runPrune({ db, config: stack.config, stores }, { dryRun: false });
    assert.deepEqual(pruned.decisions.filter((d) => d.action === 'delete'), []);

    // The admin shortens premium's daily window to 1 day: preview (the save as a dry run), then save.
    const admin = { name: 'test:admin', role: 'admin' as const, via: 'session' as const, email: 'admin@example.org' };
    const policyRow = async () =>
      (await db.execute<{ daily: number; weekly: number; monthly: number }>(sql`select daily_retention_days daily, weekly_retention_weeks weekly, monthly_retention_months monthly from backup_retention_policies where tier_id = 'premium'`)).rows[0]!;
    const current = await policyRow();
    const windows = { dailyRetentionDays: 1, weeklyRetentionWeeks: current.weekly, monthlyRetentionMonths: current.monthly };
    const auditRows = async () => Number((await db.execute<{ n: number }>(sql`select count(*)::int n from audit_log`)).rows[0]!.n);
    const auditBefore = await auditRows();
    const preview = await updatePolicy(db, admin, 'premium', windows, stack.config, { dryRun: true });
    assert.equal(preview.considered, 2);
    assert.equal(preview.changed, 2);
    assert.deepEqual(preview.wouldDelete, [threeDays.id]);
    assert.deepEqual(preview.newlyDeleted, [threeDays.id]);
    assert.equal(preview.schedules, null);
    assert.equal((await expiry(threeDays.id))?.getTime(), before3?.getTime(), 'the preview changes no expiry');
    assert.deepEqual(await policyRow(), current, 'the preview leaves the policy as it was');
    assert.equal(await auditRows(), auditBefore, 'the preview audits nothing');
    const applied = await updatePolicy(db, admin, 'premium', windows, stack.config);
    assert.deepEqual({ ...applied, schedules: null }, preview, 'saving does what the preview showed');
    assert.equal((await policyRow()).daily, 1);
    const completed = pgTime((await db.execute<{ c: string }>(sql`select completed_at c from backup_jobs where id = ${threeDays.id}::uuid`)).rows[0]!.c);
    assert.equal((await expiry(threeDays.id))?.getTime(), completed.getTime() + DAY);
    const audit = (await db.execute<{ actor: string; action: string }>(sql`select actor, action from audit_log where target = 'premium' order by id`)).rows;
    assert.deepEqual(audit, [
      { actor: 'test:admin', action: 'retention.recompute_expiries' },
      { actor: 'test:admin', action: 'policy.update' },
    ]);
    pruned = await runPrune({ db, config: stack.config, stores }, { dryRun: false });
    assert.deepEqual(pruned.decisions.filter((d) => d.action === 'delete').map((d) => d.backup_id), preview.wouldDelete);
    assert.equal((await statusOf(newest.id)).status, 'completed');
  });

  it('tenant removal with purge: refused while a backup is held, then deletes everything', async () => {
    await addTinyTenants(db, ['bye'], { plan: 'premium' });
    await reconcileSchedules(db, stack.config);
    const held = await fake({ tenant: 'bye', ageDays: 2, expiresInDays: 5, legalHold: true });
    const cold = await fake({ tenant: 'bye', tier: 'b2_cold', origin: 'monthly', ageDays: 1, expiresInDays: 300 });
    await assert.rejects(removeTenant({ db, stores }, 'bye', { purgeBackups: true }), (e: unknown) => e instanceof PurgeRefusedError && e.heldBackupIds[0] === held.id);
    assert.equal((await db.execute(sql`select 1 from tenants where id = 'bye'`)).rows.length, 1, 'nothing changed');
    assert.equal((await keys('s3_standard', held.prefix)).length, 3);

    await db.execute(sql`update backup_jobs set legal_hold = false where id = ${held.id}::uuid`);
    await stores.forTier('s3_standard').delete(`${held.prefix}legal-hold`);
    const r = await removeTenant({ db, stores }, 'bye', { purgeBackups: true });
    assert.equal(r.removedFromPlatform, true);
    assert.deepEqual(r.failed, []);
    assert.deepEqual(r.decisions.map((d) => d.backup_id).sort(), [held.id, cold.id].sort());
    assert.deepEqual(await keys('s3_standard', 'backups/bye/'), []);
    assert.deepEqual(await keys('b2_cold', 'backups/bye/'), []);
    assert.equal((await statusOf(cold.id)).status, 'deleted');
    assert.equal((await db.execute(sql`select 1 from backup_schedules where tenant_id = 'bye'`)).rows.length, 0);
    assert.ok((await db.execute<{ r: string | null }>(sql`select removed_at r from tenant_state where tenant_id = 'bye'`)).rows[0]!.r);
  });
});
