// The backup engine end to end on the test stack: one dump into s3_standard, s3_ia and b2_cold,
// read back with standard tools (age | zstd | pg_restore), hashes, manifest, layout, expiry, retries.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { eq, sql } from 'drizzle-orm';
import packageJson from '../../package.json' with { type: 'json' };
import { backupJobs, tenantState } from '../db/schema.ts';
import { createStores, type Stores } from '../storage/registry.ts';
import { createS3Store, s3StoreOptionsFromConfig } from '../storage/s3.ts';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import { createDemoTenant, DEMO_TABLES } from '../testing/tenant-data.ts';
import { BackupRequestError, createBackupGroup } from './create.ts';
import { runBackupGroup } from './run-backup.ts';
import { verifyKeysOf, verifyManifest } from './signing.ts';
import { backupJson } from './serialize.ts';
import { decryptDump, download, listKeys, restoreList, sha256, tocEntries } from './test-support.ts';

const DAY = 86_400_000;

describe('runBackupGroup', () => {
  let stack: TestStack;
  let stores: Stores;
  before(async () => {
    stack = await startTestStack();
    stores = createStores(stack.config);
    await createDemoTenant(stack.db, { id: 'acme', name: 'Acme Clinic', schemaName: 'acme', plan: 'premium', patients: 3000 });
    await createDemoTenant(stack.db, { id: 'basic-co', name: 'Basic Co', schemaName: 'basic_co', plan: 'basic', patients: 100 });
  });
  after(async () => {
    await stack?.stop();
  });

  const groupRows = (dumpGroup: string) =>
    stack.db.select().from(backupJobs).where(eq(backupJobs.dumpGroup, dumpGroup)).orderBy(backupJobs.seq);

  it('holds pg_dump to STRATA_DUMP_MAX_RATE_MB and stores the same readable dump', async () => {
    const [row] = await createBackupGroup(stack.db, { tenantId: 'acme', storageTiers: ['s3_standard'], origin: 'manual', requestedBy: 'test:rate' });
    const t = performance.now();
    await runBackupGroup({ db: stack.db, config: { ...stack.config, STRATA_DUMP_MAX_RATE_MB: 1 }, stores }, row!.dumpGroup);
    const seconds = (performance.now() - t) / 1000;
    const [done] = await groupRows(row!.dumpGroup);
    assert.equal(done!.status, 'completed', done!.errorMessage ?? '');
    const dumpMb = done!.dumpSizeBytes! / (1024 * 1024);
    assert.ok(dumpMb > 1.2, `the tenant's dump (${dumpMb.toFixed(2)} MB) is larger than the one-second allowance`);
    // At 1 MB/s with one second of allowance, the dump cannot have been read faster than this.
    assert.ok(seconds >= dumpMb - 1, `${dumpMb.toFixed(2)} MB in ${seconds.toFixed(2)} s at 1 MB/s`);
    const store = stores.forTier('s3_standard');
    const stored = await download(store, done!.backupLocation!.replace(`s3://${stack.config.S3_BACKUP_BUCKET}/`, ''));
    const dump = decryptDump(stored, stack.config.BACKUP_DECRYPTION_IDENTITY_FILE!);
    assert.equal(sha256(dump), done!.sha256Dump);
    assert.ok(tocEntries(restoreList(dump)).some((l) => l.includes('TABLE DATA acme patients ')));
  });

  it('stores one dump in three storage tiers, readable with age, zstd and pg_restore', async () => {
    const created = await createBackupGroup(stack.db, {
      tenantId: 'acme',
      storageTiers: ['s3_standard', 's3_ia', 'b2_cold'],
      origin: 'monthly',
      requestedBy: 'test:alice',
    });
    assert.equal(created.length, 3);
    assert.equal(new Set(created.map((r) => r.dumpGroup)).size, 1);
    assert.ok(created.every((r) => r.status === 'pending'));

    const progress: number[] = [];
    const before = Date.now();
    await runBackupGroup({ db: stack.db, config: stack.config, stores }, created[0]!.dumpGroup);
    const rows = await groupRows(created[0]!.dumpGroup);
    assert.deepEqual(rows.map((r) => r.status), ['completed', 'completed', 'completed']);
    assert.deepEqual(rows.map((r) => r.storageTier), ['s3_standard', 's3_ia', 'b2_cold']);
    progress.push(...rows.map((r) => r.progressBytes));

    const first = rows[0]!;
    const startedAt = first.startedAt!;
    assert.ok(startedAt.getTime() >= Math.floor(before / 1000) * 1000 && startedAt.getTime() <= Date.now());
    assert.equal(startedAt.getMilliseconds(), 0, 'times are whole seconds');
    const identity = stack.config.BACKUP_DECRYPTION_IDENTITY_FILE!;
    const pgDumpVersion = spawnSync('pg_dump', ['--version'], { encoding: 'utf8' }).stdout.trim().replace('pg_dump (PostgreSQL) ', '');
    const serverVersion = (await stack.db.execute<{ v: string }>(sql`select current_setting('server_version') v`)).rows[0]!.v;

    let dumpHash: string | undefined;
    for (const row of rows) {
      // Every row: same dump, same started_at, the plan at backup time, sizes as stored.
      assert.equal(row.tierId, 'premium');
      assert.equal(row.startedAt!.getTime(), startedAt.getTime());
      assert.equal(row.sha256Dump, first.sha256Dump);
      assert.equal(row.sha256Stored, first.sha256Stored);
      assert.equal(row.progressBytes, row.backupSizeBytes);
      assert.equal(row.errorMessage, null);

      // Layout: backups/<tenant>/<YYYY>/<MM>/<uuid>/{dump.zst.age, manifest.json, manifest.json.sig}, nothing else.
      const yyyy = String(startedAt.getUTCFullYear());
      const mm = String(startedAt.getUTCMonth() + 1).padStart(2, '0');
      const prefix = `backups/acme/${yyyy}/${mm}/${row.id}/`;
      const store = stores.forTier(row.storageTier as 's3_standard' | 's3_ia' | 'b2_cold');
      const bucket = row.storageTier === 'b2_cold' ? `b2://${stack.config.B2_BUCKET_NAME}` : `s3://${stack.config.S3_BACKUP_BUCKET}`;
      assert.equal(row.backupLocation, `${bucket}/${prefix}dump.zst.age`);
      assert.deepEqual(await listKeys(store, `backups/acme/${yyyy}/${mm}/${row.id}`), [`${prefix}dump.zst.age`, `${prefix}manifest.json`, `${prefix}manifest.json.sig`]);

      // The stored object: its hash and size are the row's, and standard tools read it.
      const stored = await download(store, `${prefix}dump.zst.age`);
      assert.equal(stored.length, row.backupSizeBytes);
      assert.equal(sha256(stored), row.sha256Stored);
      const dump = decryptDump(stored, identity);
      assert.equal(dump.length, row.dumpSizeBytes);
      assert.equal(sha256(dump), row.sha256Dump);
      dumpHash ??= sha256(dump);
      const toc = tocEntries(restoreList(dump));
      for (const table of DEMO_TABLES) assert.ok(toc.some((l) => l.includes(`TABLE DATA acme ${table} `)), `${table} data in the dump`);
      assert.ok(toc.every((l) => / acme /.test(l)), 'only the acme schema is in the dump');

      // Manifest v1, exactly, signed over its exact bytes by the configured key (issue 13).
      const manifestText = await download(store, `${prefix}manifest.json`);
      assert.ok(verifyManifest(manifestText, await download(store, `${prefix}manifest.json.sig`), verifyKeysOf(stack.config)), 'the manifest is signed');
      const manifest = JSON.parse(manifestText.toString('utf8'));
      assert.deepEqual(manifest, {
        format_version: 1,
        backup: backupJson(row),
        tenant: { id: 'acme', name: 'Acme Clinic', schema_name: 'acme' },
        compression: 'zstd',
        encryption: { scheme: 'age', recipients: stack.config.BACKUP_ENCRYPTION_RECIPIENTS },
        pg_dump_version: pgDumpVersion,
        server_version: serverVersion,
        strata_version: packageJson.version,
      });
      assert.equal(manifest.backup.status, 'completed');
      assert.match(String(manifest.backup.completed_at), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      assert.equal(typeof manifest.backup.backup_size_bytes, 'number');
    }
    assert.ok(progress.every((p) => p > 0));

    // s3_ia is stored as STANDARD_IA, s3_standard as STANDARD.
    const s3 = createS3Store(s3StoreOptionsFromConfig(stack.config, 's3_standard'));
    try {
      for (const row of rows.slice(0, 2)) {
        const key = row.backupLocation!.replace(`s3://${stack.config.S3_BACKUP_BUCKET}/`, '');
        const head = await s3.client.send(new HeadObjectCommand({ Bucket: stack.config.S3_BACKUP_BUCKET, Key: key }));
        assert.equal(head.StorageClass ?? 'STANDARD', row.storageTier === 's3_ia' ? 'STANDARD_IA' : 'STANDARD');
      }
    } finally {
      s3.destroy();
    }

    // Monthly under premium: 12 calendar months after completed_at, clamped to the month's end.
    const done = first.completedAt!;
    const lastDay = new Date(Date.UTC(done.getUTCFullYear() + 1, done.getUTCMonth() + 1, 0)).getUTCDate();
    const expected = new Date(done);
    expected.setUTCDate(1);
    expected.setUTCFullYear(done.getUTCFullYear() + 1);
    expected.setUTCDate(Math.min(done.getUTCDate(), lastDay));
    assert.ok(rows.every((r) => r.expiresAt!.getTime() === expected.getTime()));

    // The tenant's last known facts are kept for when the platform forgets it.
    const [state] = await stack.db.select().from(tenantState).where(eq(tenantState.tenantId, 'acme'));
    assert.deepEqual({ name: state!.name, schema: state!.schemaName, tier: state!.tierId }, { name: 'Acme Clinic', schema: 'acme', tier: 'premium' });
  });

  it('sets expires_at by origin and plan: manual, daily, weekly', async () => {
    const cases = [
      { origin: 'manual', tenantId: 'basic-co', days: stack.config.STRATA_MANUAL_RETENTION_DAYS },
      { origin: 'daily', tenantId: 'acme', days: 7 },
      { origin: 'weekly', tenantId: 'acme', days: 4 * 7 },
      // basic keeps no dailies: a daily taken under it expires at completion.
      { origin: 'daily', tenantId: 'basic-co', days: 0 },
    ] as const;
    for (const c of cases) {
      const [row] = await createBackupGroup(stack.db, { tenantId: c.tenantId, storageTiers: ['s3_standard'], origin: c.origin, requestedBy: 'test' });
      await runBackupGroup({ db: stack.db, config: stack.config, stores }, row!.dumpGroup);
      const [done] = await groupRows(row!.dumpGroup);
      assert.equal(done!.status, 'completed', `${c.origin} ${c.tenantId}`);
      assert.equal(done!.expiresAt!.getTime() - done!.completedAt!.getTime(), c.days * DAY, `${c.origin} ${c.tenantId}`);
    }
  });

  it('refuses a backup of a tenant that is not in the tenants table', async () => {
    await assert.rejects(
      createBackupGroup(stack.db, { tenantId: 'ghost', storageTiers: ['s3_standard'], origin: 'manual', requestedBy: 'test' }),
      (err: unknown) => err instanceof BackupRequestError && err.code === 'not_found' && /ghost/.test(err.message),
    );
    await assert.rejects(
      createBackupGroup(stack.db, { tenantId: '../etc', storageTiers: ['s3_standard'], origin: 'manual', requestedBy: 'test' }),
      (err: unknown) => err instanceof BackupRequestError && err.field === 'tenant_id',
    );
  });

  it('a retried group leaves exactly one copy, whatever an earlier attempt left behind', async () => {
    const [row] = await createBackupGroup(stack.db, { tenantId: 'acme', storageTiers: ['b2_cold'], origin: 'manual', requestedBy: 'test' });
    await runBackupGroup({ db: stack.db, config: stack.config, stores }, row!.dumpGroup);
    const store = stores.forTier('b2_cold');
    // An earlier attempt that started in another month left a dump there, and junk under the new prefix.
    const oldPrefix = `backups/acme/2024/01/${row!.id}/`;
    await store.put(`${oldPrefix}dump.zst.age`, Buffer.from('partial dump of attempt 1'));
    const [firstRun] = await groupRows(row!.dumpGroup);
    await stack.db
      .update(backupJobs)
      .set({ status: 'pending', attempts: 2, startedAt: new Date('2024-01-31T23:59:59Z'), backupLocation: store.location(`${oldPrefix}dump.zst.age`) })
      .where(eq(backupJobs.id, row!.id));
    await runBackupGroup({ db: stack.db, config: stack.config, stores }, row!.dumpGroup);
    const [again] = await groupRows(row!.dumpGroup);
    assert.equal(again!.status, 'completed');
    assert.deepEqual(await listKeys(store, oldPrefix), []);
    assert.deepEqual((await listKeys(store, 'backups/acme/')).filter((k) => k.includes(row!.id)), [
      `${again!.backupLocation!.replace(`b2://${stack.config.B2_BUCKET_NAME}/`, '').replace(/dump\.zst\.age$/, '')}dump.zst.age`,
      `${again!.backupLocation!.replace(`b2://${stack.config.B2_BUCKET_NAME}/`, '').replace(/dump\.zst\.age$/, '')}manifest.json`,
      `${again!.backupLocation!.replace(`b2://${stack.config.B2_BUCKET_NAME}/`, '').replace(/dump\.zst\.age$/, '')}manifest.json.sig`,
    ]);
    assert.equal(firstRun!.backupLocation, again!.backupLocation);
  });

  it('does nothing for a group with no pending or running row', async () => {
    const [row] = await createBackupGroup(stack.db, { tenantId: 'basic-co', storageTiers: ['s3_standard'], origin: 'manual', requestedBy: 'test' });
    await stack.db.update(backupJobs).set({ status: 'completed' }).where(eq(backupJobs.id, row!.id));
    await runBackupGroup({ db: stack.db, config: stack.config, stores }, row!.dumpGroup);
    const [same] = await groupRows(row!.dumpGroup);
    assert.equal(same!.startedAt, null);
  });
});
