// Disaster recovery of the catalog: back up, lose the database, migrate a fresh one, rebuild from
// the stores — same ids, same fields, legal holds kept, tenants registered, and a second run adds nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { asc, eq, sql } from 'drizzle-orm';
import { createBackupGroup } from '../backup/create.ts';
import { setLegalHold } from '../backup/hold.ts';
import { runBackupGroup } from '../backup/run-backup.ts';
import { backupJson, type BackupJson } from '../backup/serialize.ts';
import { verifyKeysOf } from '../backup/signing.ts';
import { listKeys } from '../backup/test-support.ts';
import { closeDb, getDb, type Db } from '../db/client.ts';
import { runMigrations } from '../db/migrate.ts';
import { backupJobs, tenantState } from '../db/schema.ts';
import { createStores, type Stores } from '../storage/registry.ts';
import { createDatabase, dropDatabase, startTestStack, type TestStack } from '../testing/stack.ts';
import { createDemoTenant, dropDemoTenant } from '../testing/tenant-data.ts';
import { rebuildCatalog } from './rebuild.ts';

describe('catalog rebuild', () => {
  let stack: TestStack;
  let stores: Stores;
  let db: Db;
  let before_: BackupJson[];
  let heldId: string;

  const completedBackups = async (d: Db) =>
    (await d.select().from(backupJobs).where(eq(backupJobs.status, 'completed')).orderBy(asc(backupJobs.id))).map(backupJson);

  before(async () => {
    stack = await startTestStack();
    stores = createStores(stack.config);
    db = stack.db;
    const ctx = { db, config: stack.config, stores };
    await createDemoTenant(db, { id: 'acme', name: 'Acme Clinic', schemaName: 'Acme "Main"', plan: 'premium', patients: 500 });
    await createDemoTenant(db, { id: 'leaver', name: 'Leaver GmbH', schemaName: 'leaver', plan: 'advanced', patients: 50 });
    for (const request of [
      { tenantId: 'acme', storageTiers: ['s3_standard', 's3_ia', 'b2_cold'] as const, origin: 'monthly' as const },
      { tenantId: 'acme', storageTiers: ['s3_standard'] as const, origin: 'manual' as const },
      { tenantId: 'leaver', storageTiers: ['b2_cold'] as const, origin: 'monthly' as const },
    ]) {
      const rows = await createBackupGroup(db, { ...request, storageTiers: [...request.storageTiers], requestedBy: 'test:ops' });
      await runBackupGroup(ctx, rows[0]!.dumpGroup);
    }
    // A failed backup leaves no objects, so it is not rebuilt.
    const [failing] = await createBackupGroup(db, { tenantId: 'acme', storageTiers: ['s3_ia'], origin: 'manual', requestedBy: 'test' });
    await runBackupGroup({ ...ctx, config: { ...stack.config, BACKUP_ENCRYPTION_RECIPIENTS: ['age1notakey'] } }, failing!.dumpGroup).catch(() => {});
    const held = (await db.select().from(backupJobs).where(eq(backupJobs.storageTier, 'b2_cold')).orderBy(asc(backupJobs.seq)))[0]!;
    heldId = held.id;
    await setLegalHold(db, stores, heldId, true, 'test:legal');
    // The app removes a tenant: its backups stay, the platform forgets it.
    await dropDemoTenant(db, { id: 'leaver', schemaName: 'leaver' });
    before_ = await completedBackups(db);
    assert.equal(before_.length, 5);
    assert.equal(before_.find((b) => b.id === heldId)?.legal_hold, true);
  });
  after(async () => {
    await stack?.stop();
  });

  it('recreates every completed backup with the same id and fields after the database is lost', async () => {
    const url = stack.config.DATABASE_URL;
    const name = decodeURIComponent(new URL(url).pathname.slice(1));
    await closeDb(url);
    await dropDatabase(stack.urlFor('postgres'), name);
    await createDatabase(stack.urlFor('postgres'), name);
    db = getDb(url);
    await runMigrations(db);
    assert.deepEqual(await completedBackups(db), []);

    const result = await rebuildCatalog(db, stores, { verifyKeys: verifyKeysOf(stack.config) });
    assert.deepEqual(result, { added: 5, already: 0, tenants_added: 2, rejected: [], trusted_unsigned: 0 });
    assert.deepEqual(await completedBackups(db), before_);
    assert.equal((await completedBackups(db)).find((b) => b.id === heldId)?.legal_hold, true, 'the legal hold survives');

    // One dump stored in three tiers is one dump group again.
    const groups = await db.execute<{ n: number }>(sql`select count(distinct dump_group)::int n from backup_jobs where tenant_id = 'acme' and origin = 'monthly'`);
    assert.equal(groups.rows[0]!.n, 1);

    // Tenants: registered in tenant_state from the manifests; the platform's tables are left alone.
    const states = await db.select().from(tenantState).orderBy(asc(tenantState.tenantId));
    assert.deepEqual(
      states.map((s) => ({ id: s.tenantId, name: s.name, schema: s.schemaName, tier: s.tierId, rebuilt: s.rebuiltFromManifest })),
      [
        { id: 'acme', name: 'Acme Clinic', schema: 'Acme "Main"', tier: 'premium', rebuilt: true },
        { id: 'leaver', name: 'Leaver GmbH', schema: 'leaver', tier: 'advanced', rebuilt: true },
      ],
    );
    const platform = await db.execute<{ n: number }>(sql`select count(*)::int n from tenants`);
    assert.equal(platform.rows[0]!.n, 0);
  });

  it('adds nothing the second time', async () => {
    const again = await rebuildCatalog(db, stores, { verifyKeys: verifyKeysOf(stack.config) });
    assert.deepEqual(again, { added: 0, already: 5, tenants_added: 0, rejected: [], trusted_unsigned: 0 });
    assert.deepEqual(await completedBackups(db), before_);
  });

  it('a rebuilt backup released from its hold loses the marker too', async () => {
    const released = await setLegalHold(db, stores, heldId, false, 'test:legal');
    assert.equal(released.legalHold, false);
    const prefix = released.backupLocation!.replace(`b2://${stack.config.B2_BUCKET_NAME}/`, '').replace(/dump\.zst\.age$/, '');
    assert.deepEqual(await listKeys(stores.forTier('b2_cold'), prefix), [`${prefix}dump.zst.age`, `${prefix}manifest.json`, `${prefix}manifest.json.sig`]);
  });
});
