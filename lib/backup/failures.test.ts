// Every way a backup can fail ends the same: rows failed with a clear, redacted message, the other
// programs stopped, uploads aborted, and nothing visible in any store (no B2 unfinished large file either).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { quoteIdent } from '../db/ident.ts';
import { backupJobs, type BackupJobRow } from '../db/schema.ts';
import type { Config } from '../env.ts';
import { b2StoreOptionsFromConfig, createB2Store } from '../storage/b2.ts';
import { createStores, type Stores } from '../storage/registry.ts';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import { createDemoTenant } from '../testing/tenant-data.ts';
import { createBackupGroup } from './create.ts';
import { BackupFailedError, runBackupGroup, type BackupContext } from './run-backup.ts';
import { b2Api, failingMidway, listKeys, replacingTier, tappingUploads } from './test-support.ts';

const ALL_TIERS = ['s3_standard', 's3_ia', 'b2_cold'] as const;

describe('backup failures', () => {
  let stack: TestStack;
  let stores: Stores;
  before(async () => {
    // 5 MB parts, so a ~12 MB stored dump is a multipart upload / B2 large file.
    stack = await startTestStack({ B2_PART_SIZE_MB: '5', S3_PART_SIZE_MB: '5' });
    stores = createStores(stack.config);
    await createDemoTenant(stack.db, { id: 'big', name: 'Big Clinic', schemaName: 'big clinic', plan: 'premium', patients: 120_000 });
    await createDemoTenant(stack.db, { id: 'small', name: 'Small', schemaName: 'small', plan: 'premium', patients: 50 });
  });
  after(async () => {
    await stack?.stop();
  });

  async function backup(tenantId: string, ctx: Partial<BackupContext> = {}): Promise<{ rows: BackupJobRow[]; error: unknown }> {
    const created = await createBackupGroup(stack.db, { tenantId, storageTiers: [...ALL_TIERS], origin: 'manual', requestedBy: 'test' });
    let error: unknown;
    try {
      await runBackupGroup({ db: stack.db, config: stack.config, stores, ...ctx }, created[0]!.dumpGroup);
    } catch (err) {
      error = err;
    }
    const rows = await stack.db.select().from(backupJobs).where(eq(backupJobs.dumpGroup, created[0]!.dumpGroup)).orderBy(backupJobs.seq);
    return { rows, error };
  }

  /** Nothing of the tenant's backups is visible in any store, and B2 has no unfinished large file. */
  async function assertNothingStored(tenantId: string) {
    for (const tier of ALL_TIERS) assert.deepEqual(await listKeys(stores.forTier(tier), `backups/${tenantId}/`), [], tier);
    const b2 = await b2Api(stack.config);
    assert.deepEqual(await b2.unfinishedLargeFiles(`backups/${tenantId}/`), []);
    assert.deepEqual(await b2.fileVersions(`backups/${tenantId}/`), []);
  }

  function assertFailed(rows: BackupJobRow[], error: unknown, pattern: RegExp) {
    assert.ok(error instanceof BackupFailedError, String(error));
    assert.match(error.message, pattern);
    assert.equal(rows.length, 3);
    for (const row of rows) {
      assert.equal(row.status, 'failed');
      assert.equal(row.errorMessage, error.message);
      assert.equal(row.completedAt, null);
      assert.equal(row.sha256Stored, null);
    }
  }

  it('pg_dump --strict-names finds no schema (dropped after the request): failed with pg_dump\'s message', async () => {
    await createDemoTenant(stack.db, { id: 'gone', name: 'Gone', schemaName: 'gone*', plan: 'basic', patients: 10 });
    const created = await createBackupGroup(stack.db, { tenantId: 'gone', storageTiers: [...ALL_TIERS], origin: 'manual', requestedBy: 'test' });
    await stack.db.execute(sql.raw(`drop schema ${quoteIdent('gone*')} cascade`));
    await assert.rejects(runBackupGroup({ db: stack.db, config: stack.config, stores }, created[0]!.dumpGroup), BackupFailedError);
    const rows = await stack.db.select().from(backupJobs).where(eq(backupJobs.dumpGroup, created[0]!.dumpGroup));
    for (const row of rows) {
      assert.equal(row.status, 'failed');
      assert.match(row.errorMessage!, /^pg_dump exited with code 1: pg_dump: error: no matching schemas were found for pattern/);
    }
    await assertNothingStored('gone');
  });

  it('no signing key: failed with a configuration error before anything is dumped or stored (issue 13)', async () => {
    const { rows, error } = await backup('small', { config: { ...stack.config, STRATA_SIGNING_KEY_FILE: undefined } });
    assertFailed(rows, error, /STRATA_SIGNING_KEY_FILE is not set: every backup manifest is signed/);
    for (const row of rows) assert.equal(row.startedAt, null, 'refused before the dump started');
    await assertNothingStored('small');
  });

    it('a bad password fails with pg_dump\'s message and no password in it', async () => {
    const badPassword = 'Wr0ng-p4ss-w0rd-%40-x';
    const url = new URL(stack.config.DATABASE_URL);
    const realPassword = decodeURIComponent(url.password);
    url.password = badPassword;
    const config: Config = { ...stack.config, BACKUP_SOURCE_URL: url.toString(), sourceUrl: url.toString() };
    const { rows, error } = await backup('small', { config });
    assertFailed(rows, error, /pg_dump exited with code 1: .*password authentication failed for user "postgres"/);
    for (const secret of [badPassword, decodeURIComponent(badPassword), realPassword, url.toString()]) {
      assert.ok(!rows[0]!.errorMessage!.includes(secret), 'the message holds no password');
    }
    await assertNothingStored('small');
  });

  it('a store refusing mid-way fails the whole group and removes every copy', async () => {
    const refusing = failingMidway(stores.forTier('b2_cold'), 7 * 1024 * 1024);
    const { rows, error } = await backup('big', { stores: replacingTier(stores, 'b2_cold', refusing) });
    assertFailed(rows, error, /^upload to b2:\/\/strata-cold\/backups\/big\/.*\/dump\.zst\.age failed: injected: the store refused the upload$/);
    await assertNothingStored('big');
    await assertNoDumpRunning();
  });

  it('a failure the job queue will retry removes every copy but leaves the rows running for the queue, never failed', async () => {
    const refusing = failingMidway(stores.forTier('b2_cold'), 7 * 1024 * 1024);
    const asked: unknown[] = [];
    const { rows, error } = await backup('big', { stores: replacingTier(stores, 'b2_cold', refusing), willRetry: (err) => asked.push(err) > 0 });
    assert.ok(error instanceof BackupFailedError, String(error));
    assert.equal(asked.length, 1);
    assert.deepEqual(rows.map((r) => [r.status, r.errorMessage]), ALL_TIERS.map(() => ['running', null]));
    await assertNothingStored('big');
    await assertNoDumpRunning();
    // The queue owns the rows now (lib/jobs/fail.ts: pending for the retry, or failed after the last attempt).
    await stack.db.update(backupJobs).set({ status: 'failed', errorMessage: 'test: not retried' }).where(eq(backupJobs.dumpGroup, rows[0]!.dumpGroup));
  });

  it('B2 answering 503 beyond its retries fails the group with B2\'s answer', async () => {
    const b2 = await b2Api(stack.config);
    const impatient = createB2Store({ ...b2StoreOptionsFromConfig(stack.config), requestAttempts: 2, baseDelayMs: 5 });
    await b2.failNextUploads(1000);
    try {
      const { rows, error } = await backup('big', { stores: replacingTier(stores, 'b2_cold', impatient) });
      assertFailed(rows, error, /^upload to b2:\/\/strata-cold\/.* failed: b2_upload_(part|file): 503/);
    } finally {
      await b2.failNextUploads(0);
    }
    await assertNothingStored('big');
  });

  it('a cancel (worker shutdown) stops the programs and the uploads', async () => {
    const controller = new AbortController();
    // Cancelled once 6 MB went to B2: mid-way through a large file and the S3 multipart uploads.
    const tapped = tappingUploads(stores.forTier('b2_cold'), 6 * 1024 * 1024, () => controller.abort(new Error('worker shutting down')));
    const { rows, error } = await backup('big', { signal: controller.signal, stores: replacingTier(stores, 'b2_cold', tapped) });
    assertFailed(rows, error, /^backup cancelled: worker shutting down$/);
    assert.ok(rows[0]!.startedAt, 'it had started');
    await assertNothingStored('big');
    await assertNoDumpRunning();
  });

  it('after all those failures, the same tenant backs up fine', async () => {
    const { rows, error } = await backup('big');
    assert.equal(error, undefined);
    assert.deepEqual(rows.map((r) => r.status), ['completed', 'completed', 'completed']);
    assert.ok(rows[0]!.backupSizeBytes! > 10 * 1024 * 1024, `a multipart-sized dump (${rows[0]!.backupSizeBytes} bytes)`);
  });

  /** pg_dump was stopped: its server backend goes away. */
  async function assertNoDumpRunning() {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const res = await stack.db.execute<{ n: number }>(sql`select count(*)::int n from pg_stat_activity where application_name = 'strata-backup'`);
      if (res.rows[0]!.n === 0) return;
      if (Date.now() > deadline) assert.fail('pg_dump still connected after the failure');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});
