// Incremental backups end to end against the real PostgreSQL, s3rver and the B2 server: a tenant built
// by an application is backed up incrementally to S3 and B2 from one dump; an unchanged tenant adds
// little, a changed one only what changed; prune and chunk collection in between leave every retained
// point restorable exactly (fingerprint); a corrupted or missing chunk fails restore and verify naming
// the chunk, with the tenant untouched; the chunk list matches what standard tools rebuild; and a
// catalog rebuilt from the buckets alone references the chunks again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { rebuildCatalog } from '../catalog/rebuild.ts';
import { chunksPrefix, parseChunkKey } from '../chunks/names.ts';
import { chunksOfBackup, collectChunks } from '../chunks/store.ts';
import { quoteIdent } from '../db/ident.ts';
import { backupJobs, type BackupJobRow } from '../db/schema.ts';
import { runPrune } from '../prune/run-prune.ts';
import { removeTenant } from '../prune/remove-tenant.ts';
import { createRestore, createUndo } from '../restore/create.ts';
import { setLegalHold } from './hold.ts';
import { runRestore, type RestoreContext } from '../restore/run-restore.ts';
import { verifyBackup } from '../restore/verify.ts';
import { createStores } from '../storage/registry.ts';
import { parseLocation } from '../storage/types.ts';
import { createTestBackups } from '../testing/fixture-backup.ts';
import { schemaFingerprint, type SchemaFingerprint } from '../testing/compat/fingerprint.ts';
import { createCompatRoles, createRichTenant, dropCompatRoles, prepareApplicationPublic, type CompatRoles } from '../testing/compat/fixtures.ts';
import { queryOnce } from '../testing/pg-env.ts';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import { verifyKeysOf } from './signing.ts';
import { decryptDump, download, listKeys, sha256 } from './test-support.ts';
import { parseManifest } from './manifest.ts';

const TENANT = { id: 'inc-clinic', schema: 'tenant_inc_clinic' };
const TIERS = ['s3_standard', 'b2_cold'] as const;

describe('incremental backups (S3 and B2)', () => {
  let stack: TestStack;
  let ctx: RestoreContext;
  let url: string;
  let roles: CompatRoles;
  const exec = (text: string) => queryOnce(url, text);
  const fp = () => schemaFingerprint(url, TENANT.schema);
  const incremental = () => createTestBackups(ctx, TENANT.id, [...TIERS], 'incremental');
  const reload = async (row: BackupJobRow) => (await stack.db.select().from(backupJobs).where(eq(backupJobs.id, row.id)))[0]!;
  const asOwner = (body: string) =>
    exec(`BEGIN; SET LOCAL ROLE ${quoteIdent(roles.owner)}; SET LOCAL search_path TO ${quoteIdent(TENANT.schema)}, public; ${body}; COMMIT;`);
  const restoreExact = async (backup: BackupJobRow, expected: SchemaFingerprint, label: string) => {
    const restore = await runRestore(ctx, (await createRestore(stack.db, { backupId: backup.id, mode: 'in_place', requestedBy: 'test', exactCopy: true })).id);
    assert.equal(restore.status, 'completed', `${label}: ${restore.errorMessage ?? ''}`);
    assert.deepEqual(await fp(), expected, `${label}: exactly the backed-up tenant`);
    await exec(`DROP SCHEMA ${quoteIdent(restore.movedAsideSchema!)} CASCADE`);
  };

  // Points of the chain: [backup copies by tier, the tenant as it was backed up].
  const points: { copies: Record<string, BackupJobRow>; state: SchemaFingerprint }[] = [];

  before(async () => {
    stack = await startTestStack();
    url = stack.config.DATABASE_URL;
    ctx = { db: stack.db, config: stack.config, stores: createStores(stack.config) };
    roles = await createCompatRoles(url);
    await prepareApplicationPublic(url, roles);
    await createRichTenant(url, roles, TENANT.id, TENANT.schema);
    // Enough rows for a dump of several chunks (~12 MB raw).
    await asOwner(`CREATE TABLE visits (id bigint PRIMARY KEY, patient text NOT NULL, note text NOT NULL);
      INSERT INTO visits SELECT g, 'patient-' || (g % 5000), repeat(md5(g::text), 2) FROM generate_series(1, 120000) g`);
  });
  after(async () => {
    if (roles) await dropCompatRoles(url, roles).catch(() => {});
    await stack?.stop();
  });

  it('stores one dump as chunks in both tiers; an unchanged tenant adds little, a change only what changed', async () => {
    const first = await incremental();
    points.push({ copies: first, state: await fp() });
    for (const tier of TIERS) {
      const row = first[tier]!;
      assert.equal(row.backupType, 'incremental');
      assert.equal(row.addedBytes, row.backupSizeBytes, `${tier}: the first incremental backup uploads everything`);
      assert.ok(row.backupLocation!.endsWith('/manifest.json'), row.backupLocation!);
      const chunks = await chunksOfBackup(stack.db, row.id);
      assert.ok(chunks.length >= 4, `${tier}: a dump of several chunks (${chunks.length})`);
      assert.ok(chunks.every((c) => parseChunkKey(c.objectKey)?.tenantId === TENANT.id));
      assert.equal(chunks.reduce((n, c) => n + c.plainBytes, 0), row.dumpSizeBytes);
    }
    // The tiers never share chunk objects: each has its own, in its own bucket.
    const s3Keys = (await chunksOfBackup(stack.db, first.s3_standard!.id)).map((c) => c.objectKey);
    const b2Keys = (await chunksOfBackup(stack.db, first.b2_cold!.id)).map((c) => c.objectKey);
    assert.equal(s3Keys.filter((k) => b2Keys.includes(k)).length, 0);

    const unchanged = await incremental();
    points.push({ copies: unchanged, state: await fp() });
    for (const tier of TIERS) {
      const row = unchanged[tier]!;
      assert.equal(row.sha256Dump === first[tier]!.sha256Dump, false, 'pg_dump stamps each archive, so one chunk at least is new');
      // The archive's header (its timestamp) lands in a new first chunk; the rest is the same. On this
      // ~12-chunk dump that is at most two chunks; the bench measures the ratio on a 1 GB dump.
      assert.ok(row.addedBytes! * 5 < row.backupSizeBytes!, `${tier}: unchanged tenant added ${row.addedBytes} of ${row.backupSizeBytes} bytes`);
      assert.ok(row.addedBytes! > 0);
    }

    await asOwner(`INSERT INTO visits SELECT g, 'patient-' || (g % 5000), repeat(md5(g::text), 2) FROM generate_series(120001, 121200) g;
      UPDATE customers SET status = 'closed' WHERE email LIKE 'user1%'`);
    const changed = await incremental();
    points.push({ copies: changed, state: await fp() });
    assert.notDeepEqual(points[2]!.state.rows, points[1]!.state.rows);
    for (const tier of TIERS) {
      const row = changed[tier]!;
      assert.ok(row.addedBytes! * 3 < row.backupSizeBytes!, `${tier}: 1% more rows added ${row.addedBytes} of ${row.backupSizeBytes} bytes`);
    }
  });

  it('the chunk list in the signed manifest rebuilds the dump with age and zstd alone', async () => {
    const row = points[2]!.copies.b2_cold!;
    const store = ctx.stores.forLocation(row.backupLocation!);
    const manifest = parseManifest((await download(store, parseLocation(row.backupLocation!).key)).toString('utf8'));
    assert.ok(manifest.chunks && manifest.chunks.length > 0);
    const parts: Buffer[] = [];
    for (const c of manifest.chunks) {
      const stored = await download(store, c.key);
      assert.equal(sha256(stored), c.sha256_stored);
      parts.push(decryptDump(stored, stack.config.BACKUP_DECRYPTION_IDENTITY_FILE!));
    }
    const dump = Buffer.concat(parts);
    assert.equal(dump.length, row.dumpSizeBytes);
    assert.equal(sha256(dump), row.sha256Dump);
  });

  it('after prune and chunk collection, every retained point restores exactly, through S3 and B2', async () => {
    // The oldest point expires; prune deletes both its copies, then its own chunks are collected.
    const oldest = points[0]!.copies;
    await stack.db.execute(sql`update backup_jobs set expires_at = now() - interval '1 hour' where dump_group = ${oldest.s3_standard!.dumpGroup}::uuid`);
    await runPrune({ db: stack.db, config: stack.config, stores: ctx.stores }, { dryRun: false });
    for (const tier of TIERS) assert.equal((await reload(oldest[tier]!)).status, 'deleted');
    const before = Number((await stack.db.execute<{ n: string }>(sql`select count(*) as n from chunks`)).rows[0]!.n);
    await stack.db.execute(sql`update chunks set last_referenced_at = now() - interval '2 days'`);
    const collected = await collectChunks(stack.db, ctx.stores);
    assert.equal(collected.failed.length, 0);
    assert.ok(collected.deleted > 0, 'the first point had chunks no later point shares (its dump header at least)');
    const after = Number((await stack.db.execute<{ n: string }>(sql`select count(*) as n from chunks`)).rows[0]!.n);
    assert.equal(after, before - collected.deleted);

    for (const [i, point] of points.entries()) {
      if (i === 0) continue;
      for (const tier of TIERS) await restoreExact(point.copies[tier]!, point.state, `point ${i} through ${tier}`);
    }
    // Leave the tenant as the newest point.
    await restoreExact(points[2]!.copies.s3_standard!, points[2]!.state, 'back to the newest point');
  });

  it('a legal hold keeps an expired incremental copy and its chunks; an undo of its restore switches back exactly', async () => {
    const held = points[1]!.copies.b2_cold!;
    await setLegalHold(stack.db, ctx.stores, held.id, true, 'test');
    await stack.db.execute(sql`update backup_jobs set expires_at = now() - interval '1 hour' where id = ${held.id}::uuid`);
    await runPrune({ db: stack.db, config: stack.config, stores: ctx.stores }, { dryRun: false });
    assert.equal((await reload(held)).status, 'completed', 'expired, but held');
    await stack.db.execute(sql`update chunks set last_referenced_at = now() - interval '2 days'`);
    await collectChunks(stack.db, ctx.stores, { baseKeepSeconds: 0 });
    for (const c of await chunksOfBackup(stack.db, held.id)) assert.ok(await ctx.stores.forTier('b2_cold').head(c.objectKey), `${c.objectKey} kept`);

    const live = await fp();
    const restore = await runRestore(ctx, (await createRestore(stack.db, { backupId: held.id, mode: 'in_place', requestedBy: 'test', exactCopy: true })).id);
    assert.equal(restore.status, 'completed', restore.errorMessage ?? '');
    assert.deepEqual(await fp(), points[1]!.state, 'the held incremental copy restores exactly');
    const undo = await runRestore(ctx, (await createUndo(stack.db, { restoreId: restore.id, requestedBy: 'test' })).id);
    assert.equal(undo.status, 'completed', undo.errorMessage ?? '');
    assert.deepEqual(await fp(), live, 'undo: the tenant as it was before the restore');
    await exec(`DROP SCHEMA ${quoteIdent(undo.movedAsideSchema!)} CASCADE`);
    await setLegalHold(stack.db, ctx.stores, held.id, false, 'test');
  });

  it('a corrupted or missing chunk fails restore and verify naming the chunk; the tenant is untouched', async () => {
    const live = await fp();
    const row = points[1]!.copies.s3_standard!;
    const chunks = await chunksOfBackup(stack.db, row.id);
    const victim = chunks[chunks.length - 1]!;
    const store = ctx.stores.forLocation(row.backupLocation!);
    const original = await download(store, victim.objectKey);
    const altered = Buffer.from(original);
    altered[altered.length - 5] = altered[altered.length - 5]! ^ 0xff;
    await store.put(victim.objectKey, altered);
    try {
      const restore = await createRestore(stack.db, { backupId: row.id, mode: 'in_place', requestedBy: 'test', exactCopy: true });
      const err = await runRestore(ctx, restore.id).then(
        () => assert.fail('the restore should have failed'),
        (e: unknown) => e as Error,
      );
      assert.match(err.message, new RegExp(`chunk ${chunks.length - 1} of .*${victim.objectKey.split('/').pop()} is corrupt`));
      assert.deepEqual(await fp(), live, 'the tenant is exactly as it was');
      const verification = await verifyBackup(ctx, row.id, { requestedBy: 'test', exactCopy: true });
      assert.equal(verification.status, 'failed');
      assert.match(verification.errorMessage!, /chunk \d+ of .* is corrupt/);
    } finally {
      await store.put(victim.objectKey, original);
    }

    const b2Row = points[1]!.copies.b2_cold!;
    const b2Chunk = (await chunksOfBackup(stack.db, b2Row.id))[0]!;
    const b2Store = ctx.stores.forLocation(b2Row.backupLocation!);
    const kept = await download(b2Store, b2Chunk.objectKey);
    await b2Store.delete(b2Chunk.objectKey);
    try {
      const verification = await verifyBackup(ctx, b2Row.id, { requestedBy: 'test', exactCopy: true });
      assert.equal(verification.status, 'failed');
      assert.match(verification.errorMessage!, new RegExp(`not found: .*${b2Chunk.objectKey.split('/').pop()} \\(chunk 0\\)`));
      assert.deepEqual(await fp(), live);
    } finally {
      await b2Store.put(b2Chunk.objectKey, kept);
    }
    const ok = await verifyBackup(ctx, b2Row.id, { requestedBy: 'test', exactCopy: true });
    assert.equal(ok.status, 'passed', ok.errorMessage ?? '');
  });

  it('a catalog rebuilt from the buckets references the chunks again, and collection keeps them', async () => {
    const newest = points[2]!.copies;
    const refs = await chunksOfBackup(stack.db, newest.b2_cold!.id);
    await stack.db.execute(sql`truncate backup_chunks, chunks, backup_jobs, tenant_state cascade`);
    const result = await rebuildCatalog(stack.db, ctx.stores, { verifyKeys: verifyKeysOf(stack.config) });
    assert.deepEqual(result.rejected, []);
    assert.ok(result.added >= 4, `both copies of the two retained points (${result.added})`);
    const rebuilt = await chunksOfBackup(stack.db, newest.b2_cold!.id);
    assert.deepEqual(rebuilt.map((c) => c.objectKey), refs.map((c) => c.objectKey));
    await stack.db.execute(sql`update chunks set last_referenced_at = now() - interval '2 days'`);
    assert.deepEqual(await collectChunks(stack.db, ctx.stores), { deleted: 0, failed: [] });
    await restoreExact((await reload(newest.b2_cold!)), points[2]!.state, 'rebuilt catalog, B2');
  });

  it('removing the tenant with --purge-backups erases its chunks at once, in both buckets', async () => {
    const before = (await stack.db.execute<{ n: string }>(sql`select count(*) as n from chunks where tenant_id = ${TENANT.id}`)).rows[0]!.n;
    assert.ok(Number(before) > 0);
    // Offboarding as the application does it: its schema goes first (it references public.tenants).
    await exec(`DROP SCHEMA ${quoteIdent(TENANT.schema)} CASCADE`);
    const result = await removeTenant({ db: stack.db, stores: ctx.stores }, TENANT.id, { purgeBackups: true });
    assert.deepEqual(result.failed, []);
    assert.equal(result.chunks.deleted, Number(before));
    assert.equal(Number((await stack.db.execute<{ n: string }>(sql`select count(*) as n from chunks where tenant_id = ${TENANT.id}`)).rows[0]!.n), 0);
    for (const tier of TIERS) assert.deepEqual(await listKeys(ctx.stores.forTier(tier), chunksPrefix(TENANT.id)), [], tier);
  });
});
