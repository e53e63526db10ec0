// verifyBackup restores into a scratch database, records tables and rows, and always drops it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { createStores } from '../storage/registry.ts';
import { parseLocation } from '../storage/types.ts';
import { createTestBackups } from '../testing/fixture-backup.ts';
import { createFixtureTenant, FIXTURE_SCHEMA } from '../testing/fixture-tenant.ts';
import { scratchDatabasesOf, startTestStack, type TestStack } from '../testing/stack.ts';
import { verifyBackup, type VerificationDetails, type VerifyContext } from './verify.ts';

describe('verifyBackup', () => {
  let stack: TestStack;
  let ctx: VerifyContext;

  before(async () => {
    stack = await startTestStack();
    ctx = { db: stack.db, config: stack.config, stores: createStores(stack.config) };
    await createFixtureTenant(stack.config.DATABASE_URL, { tenantId: 'acme', rows: 3000 });
  });
  after(async () => {
    await stack?.stop();
  });

  it('records passed with the tables and rows of the restored copy (S3 and B2)', async () => {
    const backups = await createTestBackups(ctx, 'acme', ['s3_standard', 'b2_cold']);
    const verifications: string[] = [];
    for (const backup of Object.values(backups)) {
      const v = await verifyBackup(ctx, backup.id, { requestedBy: 'test' });
      verifications.push(v.id);
      assert.equal(v.status, 'passed', v.errorMessage ?? '');
      const details = v.details as VerificationDetails;
      assert.equal(details.schema, FIXTURE_SCHEMA);
      assert.equal(details.tables.events, 3000);
      assert.equal(details.tables.accounts, 1000);
      assert.equal(details.tables.empty_things, 0);
      assert.equal(details.tables.measurements_2025 + details.tables.measurements_2026, 400);
      assert.equal(v.tables, Object.keys(details.tables).length);
      assert.equal(v.tables, 9);
      assert.equal(v.rows, Object.values(details.tables).reduce((a, b) => a + b, 0));
      assert.ok(v.startedAt && v.completedAt && v.completedAt >= v.startedAt);
    }
    assert.deepEqual(await scratchDatabasesOf(stack.db, verifications), []);
  });

  it('records failed with the reason for a corrupt backup, and fills a queued row', async () => {
    const { s3_standard: backup } = await createTestBackups(ctx, 'acme', ['s3_standard']);
    const { key } = parseLocation(backup!.backupLocation!);
    const store = ctx.stores.forLocation(backup!.backupLocation!);
    const chunks: Buffer[] = [];
    for await (const c of await store.get(key)) chunks.push(c as Buffer);
    const bytes = Buffer.concat(chunks);
    bytes[100] ^= 1;
    await store.put(key, bytes);
    const queued = await stack.db.execute<{ id: string }>(
      sql`insert into backup_verifications (backup_id, tenant_id, status) values (${backup!.id}, 'acme', 'pending') returning id`,
    );
    const v = await verifyBackup(ctx, backup!.id, { verificationId: queued.rows[0]!.id });
    assert.equal(v.id, queued.rows[0]!.id);
    assert.equal(v.status, 'failed');
    assert.match(v.errorMessage!, /stored object of .* is corrupt/);
    assert.deepEqual(await scratchDatabasesOf(stack.db, [v.id]), []);
  });
});
