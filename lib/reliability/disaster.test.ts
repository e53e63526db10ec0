// Fault: the whole database lost (Strata's catalog and the tenants' schemas with it). Each trial:
// a tenant backed up (S3 or B2), the database dropped, recreated and migrated, the catalog rebuilt
// from the manifests (lib/catalog/rebuild.ts, proven field by field in rebuild.test.ts), the tenant
// registered again by the app, restored in place — and exactly the tenant that was backed up.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { createBackupGroup } from '../backup/create.ts';
import { runBackupGroup } from '../backup/run-backup.ts';
import { verifyKeysOf } from '../backup/signing.ts';
import { rebuildCatalog } from '../catalog/rebuild.ts';
import { closeDb, getDb, type Db } from '../db/client.ts';
import { runMigrations } from '../db/migrate.ts';
import { backupJobs } from '../db/schema.ts';
import type { StorageTier } from '../domain.ts';
import { createRestore } from '../restore/create.ts';
import { runRestore } from '../restore/run-restore.ts';
import { createStores, type Stores } from '../storage/registry.ts';
import { fingerprint } from '../testing/fixture-tenant.ts';
import { createDatabase, dropDatabase, startTestStack, type TestStack } from '../testing/stack.ts';
import { createDemoTenant } from '../testing/tenant-data.ts';
import { provisionReplayRole } from '../services/replay-role.ts';
import { runCase } from './harness.ts';

describe('whole database lost', () => {
  let stack: TestStack;
  let stores: Stores;
  before(async () => {
    stack = await startTestStack();
    stores = createStores(stack.config);
  });
  after(async () => {
    await stack?.stop();
  });

  it('recreate, migrate, catalog rebuild, restore exact', async () => {
    const url = stack.config.DATABASE_URL;
    const name = decodeURIComponent(new URL(url).pathname.slice(1));
    let db: Db = stack.db;
    let known = 0;
    await runCase('Whole database lost → rebuild → restore', 'fault', async (i) => {
      const tier: StorageTier = i % 2 === 0 ? 'b2_cold' : 's3_standard';
      const tenant = { id: `dr-${i}`, name: `Disaster ${i}`, schemaName: `Dr "${i}" Ünïcode`, plan: 'premium' as const, patients: 150 };
      await createDemoTenant(db, tenant);
      const [row] = await createBackupGroup(db, { tenantId: tenant.id, storageTiers: [tier], origin: 'manual', requestedBy: 'chaos' });
      await runBackupGroup({ db, config: stack.config, stores }, row!.dumpGroup);
      const [done] = await db.select().from(backupJobs).where(eq(backupJobs.id, row!.id));
      assert.equal(done!.status, 'completed');
      const before = await fingerprint(url, tenant.schemaName);
      known++;

      await closeDb(url);
      await dropDatabase(stack.urlFor('postgres'), name);
      await createDatabase(stack.urlFor('postgres'), name);
      // Roles survive (cluster-wide); the new database's grants are part of recreating it (README).
      await provisionReplayRole(stack.urlFor('postgres'), { role: stack.restoreRole, password: decodeURIComponent(new URL(stack.config.STRATA_RESTORE_DATABASE_URL!).password), database: name });
      db = getDb(url);
      await runMigrations(db);

      const rebuilt = await rebuildCatalog(db, stores, { verifyKeys: verifyKeysOf(stack.config) });
      assert.equal(rebuilt.added, known, 'every backup taken so far is back in the catalog');
      const [again] = await db.select().from(backupJobs).where(eq(backupJobs.id, row!.id));
      assert.equal(again?.status, 'completed', 'the same backup id, completed');
      // The app registers its tenant again (its platform tables were lost too).
      await db.execute(sql`insert into tenants (id, name, schema_name) values (${tenant.id}, ${tenant.name}, ${tenant.schemaName})`);
      await db.execute(sql`insert into tenant_subscriptions (tenant_id, tier_id) values (${tenant.id}, ${tenant.plan})`);
      const restore = await createRestore(db, { backupId: row!.id, mode: 'in_place', requestedBy: 'chaos' });
      const result = await runRestore({ db, config: stack.config, stores }, restore.id);
      assert.equal(result.status, 'completed');
      assert.deepEqual(await fingerprint(url, tenant.schemaName), before, 'the tenant is exactly as backed up');
      return `${tier}: every backup back in the catalog, tenant restored exactly`;
    });
  });
});
