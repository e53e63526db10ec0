// Legal hold: the catalog flag and the `legal-hold` marker object move together.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { backupJobs } from '../db/schema.ts';
import { createStores, type Stores } from '../storage/registry.ts';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import { createDemoTenant } from '../testing/tenant-data.ts';
import { createBackupGroup } from './create.ts';
import { LegalHoldError, setLegalHold } from './hold.ts';
import { runBackupGroup } from './run-backup.ts';
import { download, listKeys } from './test-support.ts';

describe('setLegalHold', () => {
  let stack: TestStack;
  let stores: Stores;
  before(async () => {
    stack = await startTestStack();
    stores = createStores(stack.config);
    await createDemoTenant(stack.db, { id: 'acme', name: 'Acme', schemaName: 'acme', plan: 'premium', patients: 20 });
  });
  after(async () => {
    await stack?.stop();
  });

  it('writes the marker with the flag and removes it with the flag', async () => {
    const [row] = await createBackupGroup(stack.db, { tenantId: 'acme', storageTiers: ['s3_ia'], origin: 'manual', requestedBy: 'test' });
    await runBackupGroup({ db: stack.db, config: stack.config, stores }, row!.dumpGroup);
    const [done] = await stack.db.select().from(backupJobs).where(eq(backupJobs.id, row!.id));
    const store = stores.forLocation(done!.backupLocation!);
    const prefix = done!.backupLocation!.replace(`s3://${stack.config.S3_BACKUP_BUCKET}/`, '').replace(/dump\.zst\.age$/, '');

    const held = await setLegalHold(stack.db, stores, row!.id, true, 'legal@example.org');
    assert.equal(held.legalHold, true);
    assert.deepEqual(await listKeys(store, prefix), [`${prefix}dump.zst.age`, `${prefix}legal-hold`, `${prefix}manifest.json`, `${prefix}manifest.json.sig`]);
    const marker = JSON.parse((await download(store, `${prefix}legal-hold`)).toString('utf8'));
    assert.equal(marker.backup_id, row!.id);
    assert.equal(marker.by, 'legal@example.org');

    const released = await setLegalHold(stack.db, stores, row!.id, false, 'legal@example.org');
    assert.equal(released.legalHold, false);
    assert.deepEqual(await listKeys(store, prefix), [`${prefix}dump.zst.age`, `${prefix}manifest.json`, `${prefix}manifest.json.sig`]);
  });

  it('refuses unknown and unfinished backups', async () => {
    await assert.rejects(setLegalHold(stack.db, stores, '00000000-0000-4000-8000-000000000000', true, 'x'), (e: unknown) => e instanceof LegalHoldError && e.code === 'not_found');
    await assert.rejects(setLegalHold(stack.db, stores, 'nope', true, 'x'), (e: unknown) => e instanceof LegalHoldError && e.code === 'bad_request');
    const [pending] = await createBackupGroup(stack.db, { tenantId: 'acme', storageTiers: ['s3_standard'], origin: 'manual', requestedBy: 'test' });
    await assert.rejects(setLegalHold(stack.db, stores, pending!.id, true, 'x'), (e: unknown) => e instanceof LegalHoldError && e.code === 'conflict');
  });
});
