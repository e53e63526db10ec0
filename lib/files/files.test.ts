// Tenant files end to end (design.md "Tenant files") against the real PostgreSQL, s3rver (as the
// application's files bucket and as the S3 store) and the B2 server: 1,000 small files and 3 files
// of ≥ 50 MB under a tenant's prefix, backed up with its schema to S3 and B2; a second backup after
// changing 10 files and adding 5 reads only those 15; a restore after deleting 100 and overwriting 20
// writes back exactly those 120 (every object compared by SHA-256) and leaves other prefixes alone;
// extras go only when asked; a clone restores into a new prefix; a corrupted stored chunk fails
// restore and verify naming the file.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { rebuildCatalog } from '../catalog/rebuild.ts';
import { collectChunks, collectOrphanChunkObjects } from '../chunks/store.ts';
import { verifyKeysOf } from '../backup/signing.ts';
import { createBackupGroup } from '../backup/create.ts';
import { runBackupGroup } from '../backup/run-backup.ts';
import { decryptDump, download } from '../backup/test-support.ts';
import { parseChunkKey } from '../chunks/names.ts';
import { backupJobs, restoreJobs, type BackupJobRow } from '../db/schema.ts';
import { createRestore } from '../restore/create.ts';
import { runRestore, type RestoreContext } from '../restore/run-restore.ts';
import { verifyBackup } from '../restore/verify.ts';
import { createStores } from '../storage/registry.ts';
import { createFixtureTenant } from '../testing/fixture-tenant.ts';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import { filesBucketFromConfig, type FilesBucket } from '../storage/files-bucket.ts';
import { FILES_INDEX_OBJECT, parseFilesIndex, type FilesIndex } from './index-format.ts';
import type { FilesRestoreReport } from '../restore/files.ts';

const TENANT = { id: 'files-clinic', schema: 'tenant_files_clinic' };
const PREFIX = `tenants/${TENANT.id}/`;
const OTHER_PREFIX = 'tenants/other-clinic/';
const UNRELATED = 'shared/logo.png';
const MB = 1024 * 1024;

const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

describe('tenant files (files bucket on S3; copies in S3 and B2)', () => {
  let stack: TestStack;
  let ctx: RestoreContext;
  let bucket: FilesBucket;
  /** What the bucket should hold under PREFIX now: relative key → sha256. */
  const expected = new Map<string, string>();
  const logs: { message: string; fields?: Record<string, unknown> }[] = [];
  let first: Record<string, BackupJobRow>;
  let second: Record<string, BackupJobRow>;

  const put = async (key: string, body: Buffer, contentType = 'application/octet-stream', metadata: Record<string, string> = {}) => {
    await bucket.put(key, (async function* () {
      for (let i = 0; i < body.length; i += 4 * MB) yield body.subarray(i, i + 4 * MB);
    })(), { contentType, metadata, size: body.length });
  };
  const contentOf = async (key: string) => {
    const { body } = await bucket.get(key);
    const parts: Buffer[] = [];
    for await (const p of body as AsyncIterable<Uint8Array>) parts.push(Buffer.from(p));
    return Buffer.concat(parts);
  };
  /** relative key → sha256 of every object under the prefix, read back from the bucket. */
  const snapshot = async (prefix: string) => {
    const out = new Map<string, string>();
    for await (const o of bucket.list(prefix)) out.set(o.key.slice(prefix.length), sha(await contentOf(o.key)));
    return out;
  };
  const backupWithFiles = async () => {
    const rows = await createBackupGroup(stack.db, { tenantId: TENANT.id, storageTiers: ['s3_standard', 'b2_cold'], origin: 'manual', requestedBy: 'test', includeFiles: true });
    await runBackupGroup({ db: ctx.db, config: ctx.config, stores: ctx.stores, log: (message, fields) => logs.push({ message, fields }) }, rows[0]!.dumpGroup);
    const done = await stack.db.select().from(backupJobs).where(eq(backupJobs.dumpGroup, rows[0]!.dumpGroup));
    const out: Record<string, BackupJobRow> = {};
    for (const row of done) {
      assert.equal(row.status, 'completed', row.errorMessage ?? '');
      out[row.storageTier] = row;
    }
    return out;
  };
  const indexOf = async (row: BackupJobRow): Promise<FilesIndex> => {
    const store = ctx.stores.forTier(row.storageTier as 's3_standard');
    const key = row.backupLocation!.replace(/^[a-z0-9]+:\/\/[^/]+\//, '').replace(/[^/]+$/, FILES_INDEX_OBJECT);
    // Standard tools read it: age -d -i identity | zstd -d.
    return parseFilesIndex(decryptDump(await download(store, key), stack.config.BACKUP_DECRYPTION_IDENTITY_FILE!).toString('utf8'));
  };
  const restore = async (input: Parameters<typeof createRestore>[1]) => {
    const created = await createRestore(stack.db, input);
    await runRestore(ctx, created.id).catch(() => {});
    return (await stack.db.select().from(restoreJobs).where(eq(restoreJobs.id, created.id)))[0]!;
  };

  before(async () => {
    stack = await startTestStack();
    ctx = { db: stack.db, config: stack.config, stores: createStores(stack.config) };
    bucket = filesBucketFromConfig(stack.config)!;
    await createFixtureTenant(stack.config.DATABASE_URL, { schemaName: TENANT.schema, tenantId: TENANT.id, rows: 2000 });
    for (let i = 0; i < 1000; i++) {
      const body = crypto.randomBytes(500 + (i % 40) * 97);
      const key = `docs/${String(i).padStart(4, '0')}.pdf`;
      await put(PREFIX + key, body, 'application/pdf', { patient: `p-${i % 17}` });
      expected.set(key, sha(body));
    }
    for (let i = 0; i < 3; i++) {
      const body = crypto.randomBytes(50 * MB + i * 3 * MB + 123);
      const key = `scans/large-${i}.dcm`;
      await put(PREFIX + key, body, 'application/dicom');
      expected.set(key, sha(body));
    }
    await put(`${OTHER_PREFIX}a.txt`, Buffer.from('another tenant'), 'text/plain');
    await put(UNRELATED, crypto.randomBytes(2048), 'image/png');
  });
  after(async () => {
    bucket?.destroy();
    await stack?.stop();
  });

  it('backs up every object with its schema, in both tiers, content stored once per tier and the index readable by standard tools', async () => {
    first = await backupWithFiles();
    for (const row of Object.values(first)) {
      assert.equal(row.includeFiles, true);
      assert.equal(row.filesCount, 1003);
      assert.equal(row.filesPrefix, PREFIX);
      const index = await indexOf(row);
      assert.deepEqual(new Map(index.files.map((f) => [f.key, f.sha256])), expected, `${row.storageTier}: every object, by SHA-256`);
      const large = index.files.find((f) => f.key === 'scans/large-0.dcm')!;
      assert.ok(large.chunks.length >= 10, `a 50 MB file is chunked (${large.chunks.length} chunks)`);
      assert.equal(index.files.find((f) => f.key === 'docs/0003.pdf')!.metadata.patient, 'p-3', 'user metadata is kept');
      assert.equal(index.files.find((f) => f.key === 'docs/0003.pdf')!.content_type, 'application/pdf');
      assert.ok(index.files.every((f) => f.chunks.every((c) => parseChunkKey(c.key)?.tenantId === TENANT.id)));
      assert.equal(Number(row.filesAddedBytes), Number(row.filesStoredBytes), `${row.storageTier}: the first backup uploads every file`);
    }
    const stored = logs.filter((l) => l.message === 'backup files stored').at(-1)!;
    assert.equal(stored.fields!.downloaded_files, 1003, 'each object read once for both tiers');
  });

  it('a second backup after changing 10 files and adding 5 reads and uploads only those 15', async () => {
    const changed = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const key = `docs/${String(i * 37).padStart(4, '0')}.pdf`;
      const body = crypto.randomBytes(900 + i);
      await put(PREFIX + key, body, 'application/pdf');
      expected.set(key, sha(body));
      changed.add(key);
    }
    for (let i = 0; i < 5; i++) {
      const key = `new/upload-${i}.txt`;
      const body = crypto.randomBytes(3000 + i);
      await put(PREFIX + key, body, 'text/plain');
      expected.set(key, sha(body));
      changed.add(key);
    }
    second = await backupWithFiles();
    const stored = logs.filter((l) => l.message === 'backup files stored').at(-1)!;
    assert.equal(stored.fields!.downloaded_files, 15, 'only the 15 changed or new objects are read');
    for (const tier of ['s3_standard', 'b2_cold']) {
      const before = new Map((await indexOf(first[tier]!)).files.map((f) => [f.key, f.chunks.map((c) => c.key).join(',')]));
      const now = await indexOf(second[tier]!);
      assert.equal(now.files.length, 1008);
      assert.deepEqual(new Map(now.files.map((f) => [f.key, f.sha256])), expected);
      const uploaded = now.files.filter((f) => before.get(f.key) !== f.chunks.map((c) => c.key).join(',')).map((f) => f.key);
      assert.deepEqual(new Set(uploaded), changed, `${tier}: new chunks for exactly the 15 changed files`);
      const addedBytes = Number(second[tier]!.filesAddedBytes);
      const changedStored = now.files.filter((f) => changed.has(f.key)).reduce((n, f) => n + f.chunks.reduce((m, c) => m + c.stored_bytes, 0), 0);
      assert.equal(addedBytes, changedStored, `${tier}: the bytes added are those 15 files' chunks`);
    }
  });

  it('a restore after deleting 100 files and overwriting 20 writes back exactly those 120, and nothing else', async () => {
    const keys = [...expected.keys()].filter((k) => k.startsWith('docs/')).sort();
    for (const k of keys.slice(100, 200)) await bucket.delete(PREFIX + k);
    for (const [i, k] of keys.slice(300, 320).entries()) {
      // Half of them keep their size: only the SHA-256 tells them apart.
      const size = i % 2 === 0 ? (await bucket.head(PREFIX + k))!.size : 77;
      await put(PREFIX + k, crypto.randomBytes(size), 'application/pdf');
    }
    const extra = 'docs/extra-after-backup.pdf';
    await put(PREFIX + extra, Buffer.from('created after the backup'), 'application/pdf');
    const otherBefore = await snapshot(OTHER_PREFIX);
    const unrelatedBefore = sha(await contentOf(UNRELATED));

    const row = await restore({ backupId: second.s3_standard!.id, mode: 'in_place', requestedBy: 'test', restoreFiles: true });
    assert.equal(row.status, 'completed', row.errorMessage ?? '');
    assert.equal(row.filesStatus, 'completed', row.filesError ?? '');
    const report = row.filesReport as FilesRestoreReport;
    assert.equal(report.written, 120);
    assert.equal(report.unchanged, 1008 - 120);
    assert.equal(report.deleted, 0);
    const now = await snapshot(PREFIX);
    assert.equal(now.get(extra), sha(Buffer.from('created after the backup')), 'an object not in the backup stays without delete-extra');
    now.delete(extra);
    assert.deepEqual(now, expected, 'every object of the backup is back, by SHA-256');
    assert.deepEqual(await snapshot(OTHER_PREFIX), otherBefore, "another tenant's prefix is untouched");
    assert.equal(sha(await contentOf(UNRELATED)), unrelatedBefore, 'an unrelated object is untouched');
    const meta = await bucket.head(`${PREFIX}${keys[150]}`);
    assert.equal(meta?.contentType, 'application/pdf', 'content type written back');

    // Files only, with delete-extra: the extra goes, nothing else is written; the database is not touched.
    const only = await restore({ backupId: second.s3_standard!.id, mode: 'in_place', requestedBy: 'test', restoreFiles: true, filesOnly: true, deleteExtra: true });
    assert.equal(only.status, 'completed', only.errorMessage ?? '');
    assert.equal(only.movedAsideSchema, null, 'a files-only restore moves no schema aside');
    const onlyReport = only.filesReport as FilesRestoreReport;
    assert.deepEqual([onlyReport.written, onlyReport.deleted], [0, 1]);
    assert.deepEqual(await snapshot(PREFIX), expected);
  });

  it('a clone restores the files into a new prefix, from the B2 copy', async () => {
    const clonePrefix = 'clones/files-clinic-copy/';
    const row = await restore({
      backupId: second.b2_cold!.id,
      exactCopy: true,
      mode: 'clone',
      targetSchema: 'tenant_files_clinic_copy',
      requestedBy: 'test',
      restoreFiles: true,
      filesPrefix: clonePrefix,
    });
    assert.equal(row.status, 'completed', row.errorMessage ?? '');
    assert.equal(row.filesStatus, 'completed', row.filesError ?? '');
    assert.equal(row.copyBackupId, second.b2_cold!.id);
    assert.deepEqual(await snapshot(clonePrefix), expected);
    assert.deepEqual(await snapshot(PREFIX), expected, "the tenant's own prefix is untouched by a clone");
    await assert.rejects(
      () => createRestore(stack.db, { backupId: second.s3_standard!.id, mode: 'clone', targetSchema: 'tenant_files_other', requestedBy: 'test', restoreFiles: true }),
      /files_prefix/,
      'a clone with files needs a prefix',
    );
  });

  it("collection keeps every chunk a live backup's files reference; a catalog rebuilt from the buckets references them again", async () => {
    // The first point is superseded (prune marks its copies deleted): only the 10 changed files' old contents are unreferenced.
    await stack.db.update(backupJobs).set({ status: 'deleted' }).where(eq(backupJobs.dumpGroup, first.s3_standard!.dumpGroup));
    const collected = await collectChunks(stack.db, ctx.stores, { graceSeconds: 0, baseKeepSeconds: 0 });
    assert.deepEqual(collected.failed, []);
    assert.equal(collected.deleted, 10 * 2, "the changed files' old content, in both tiers, and nothing else");

    const counts = async () =>
      (await stack.db.execute<{ n: string }>(sql`select count(*) as n from backup_file_chunks where backup_id in (${second.s3_standard!.id}::uuid, ${second.b2_cold!.id}::uuid)`)).rows[0]!.n;
    const refs = await counts();
    await stack.db.execute(sql`truncate backup_file_chunks, backup_files, backup_chunks, chunks, backup_jobs, tenant_state, restore_jobs cascade`);
    const result = await rebuildCatalog(stack.db, ctx.stores, { verifyKeys: verifyKeysOf(stack.config) });
    assert.deepEqual(result.rejected, []);
    assert.equal(await counts(), refs, 'every file chunk is referenced again');
    const [rebuilt] = await stack.db.select().from(backupJobs).where(eq(backupJobs.id, second.b2_cold!.id));
    assert.equal(rebuilt!.filesCount, 1008);
    assert.equal(Number(rebuilt!.filesBytes), Number(second.b2_cold!.filesBytes));
    await stack.db.execute(sql`update chunks set last_referenced_at = now() - interval '2 days'`);
    assert.deepEqual(await collectChunks(stack.db, ctx.stores), { deleted: 0, failed: [] });
    assert.equal(await collectOrphanChunkObjects(stack.db, ctx.stores, [TENANT.id], { graceSeconds: 0 }), 0, 'no file chunk is an orphan');
    const verification = await verifyBackup(ctx, second.b2_cold!.id, { requestedBy: 'test', exactCopy: true });
    assert.equal(verification.status, 'passed', verification.errorMessage ?? '');
    assert.deepEqual((verification.details as { files?: unknown }).files, { count: 1008, bytes: Number(second.b2_cold!.filesBytes) });
    second = Object.fromEntries(await Promise.all(Object.entries(second).map(async ([k, v]) => [k, (await stack.db.select().from(backupJobs).where(eq(backupJobs.id, v.id)))[0]!]))) as typeof second;
  });

  it('a corrupted stored file fails verify and restore naming the file; the other files are written', async () => {
    const row = second.s3_standard!;
    const index = await indexOf(row);
    const victim = index.files.find((f) => f.key === 'docs/0500.pdf')!;
    const store = ctx.stores.forTier('s3_standard');
    const bytes = await download(store, victim.chunks[0]!.key);
    bytes[bytes.length - 10]! ^= 0xff;
    await store.put(victim.chunks[0]!.key, bytes);

    const verification = await verifyBackup(ctx, row.id, { requestedBy: 'test', exactCopy: true });
    assert.equal(verification.status, 'failed');
    assert.match(verification.errorMessage ?? '', /docs\/0500\.pdf/, verification.errorMessage ?? '');

    await bucket.delete(PREFIX + victim.key);
    await bucket.delete(PREFIX + 'docs/0501.pdf');
    const failed = await restore({ backupId: row.id, exactCopy: true, mode: 'in_place', requestedBy: 'test', restoreFiles: true, filesOnly: true });
    assert.equal(failed.status, 'failed');
    assert.equal(failed.filesStatus, 'failed');
    assert.match(failed.filesError ?? '', /docs\/0500\.pdf/);
    assert.match(failed.filesError ?? '', /1 not written of 1008/);
    const report = failed.filesReport as FilesRestoreReport;
    assert.equal(report.written, 1, 'the intact missing file was written');
    assert.equal((await bucket.head(PREFIX + victim.key)), null, 'the corrupt file was not written');
    assert.equal(sha(await contentOf(PREFIX + 'docs/0501.pdf')), expected.get('docs/0501.pdf'));

    // The B2 copy of the same point is intact: resuming from it puts the last file back.
    const resumed = await restore({ backupId: second.b2_cold!.id, exactCopy: true, mode: 'in_place', requestedBy: 'test', restoreFiles: true, filesOnly: true });
    assert.equal(resumed.status, 'completed', resumed.errorMessage ?? '');
    assert.deepEqual(await snapshot(PREFIX), expected);
  });
});
