// The chunk store against the real PostgreSQL and the real stores (s3rver, the B2 server): reuse per
// tenant and tier, collection after the grace period, and reuse racing collection — a backup that
// references a chunk never loses it.
import assert from 'node:assert/strict';
import crypto, { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import type { BackupStatus, StorageTier } from '../domain.ts';
import { createStores, type Stores } from '../storage/registry.ts';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import { chunkMac, chunkNamingKey, chunksPrefix, parseChunkKey } from './names.ts';
import { chunksOfBackup, collectChunks, collectOrphanChunkObjects, putChunk, type ChunkWrite } from './store.ts';

const SECRET = crypto.randomBytes(32);

describe('chunk store', () => {
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
    await db.execute(sql`truncate chunks, backup_chunks, backup_file_chunks, backup_jobs`);
    for (const tier of ['s3_standard', 'b2_cold'] as const) {
      const store = stores.forTier(tier);
      for await (const o of store.list('backups/')) await store.delete(o.key);
    }
  });

  const backup = async (tenantId: string, tier: StorageTier, status: BackupStatus = 'running') => {
    const id = randomUUID();
    await db.execute(sql`insert into backup_jobs (id, tenant_id, storage_tier, status) values (${id}::uuid, ${tenantId}, ${tier}, ${status})`);
    return id;
  };
  const setStatus = (id: string, status: BackupStatus) => db.execute(sql`update backup_jobs set status = ${status} where id = ${id}::uuid`);
  const write = (backupId: string, tenantId: string, tier: StorageTier, position: number, plaintext: Buffer, extra: Partial<ChunkWrite> = {}): ChunkWrite => ({
    backupId,
    position,
    tenantId,
    store: stores.forTier(tier),
    mac: chunkMac(chunkNamingKey(SECRET, tenantId), plaintext),
    plainBytes: plaintext.length,
    // Stand-in for compress + encrypt: what matters here is that the stored bytes differ per upload.
    encode: async () => Buffer.concat([crypto.randomBytes(16), plaintext]),
    ...extra,
  });
  const objects = async (tier: StorageTier, tenantId: string) => {
    const keys: string[] = [];
    for await (const o of stores.forTier(tier).list(chunksPrefix(tenantId))) keys.push(o.key);
    return keys.sort();
  };
  const exists = async (tier: StorageTier, key: string) => (await stores.forTier(tier).head(key)) !== null;
  /** Makes every chunk look unreferenced for a long time. */
  const age = () => db.execute(sql`update chunks set last_referenced_at = now() - interval '2 days'`);

  it('stores a content once per tenant and tier, and references it from every backup', async () => {
    const data = crypto.randomBytes(4096);
    const b1 = await backup('t1', 's3_standard');
    const first = await putChunk(db, write(b1, 't1', 's3_standard', 0, data));
    assert.equal(first.reused, false);
    assert.ok(parseChunkKey(first.objectKey), first.objectKey);
    assert.ok(!first.objectKey.includes(crypto.createHash('sha256').update(data).digest('hex')), 'the key must not reveal the plaintext hash');

    const b2 = await backup('t1', 's3_standard');
    const again = await putChunk(db, write(b2, 't1', 's3_standard', 0, data));
    assert.equal(again.reused, true);
    assert.equal(again.objectKey, first.objectKey);
    assert.deepEqual(await objects('s3_standard', 't1'), [first.objectKey]);

    // Another tenant, or another tier, never shares it.
    const b3 = await backup('t2', 's3_standard');
    const other = await putChunk(db, write(b3, 't2', 's3_standard', 0, data));
    assert.equal(other.reused, false);
    const b4 = await backup('t1', 'b2_cold');
    const cold = await putChunk(db, write(b4, 't1', 'b2_cold', 0, data));
    assert.equal(cold.reused, false);
    assert.deepEqual((await objects('b2_cold', 't1')).length, 1);

    assert.deepEqual((await chunksOfBackup(db, b2)).map((c) => c.objectKey), [first.objectKey]);
  });

  it('collects a chunk only when no backup that could complete references it, after the grace period', async () => {
    const [keep, held, failed, gone] = [crypto.randomBytes(100), crypto.randomBytes(100), crypto.randomBytes(100), crypto.randomBytes(100)];
    const completed = await backup('t1', 's3_standard');
    const k = await putChunk(db, write(completed, 't1', 's3_standard', 0, keep));
    const h = await putChunk(db, write(completed, 't1', 's3_standard', 1, held));
    const fb = await backup('t1', 's3_standard');
    const f = await putChunk(db, write(fb, 't1', 's3_standard', 0, failed));
    // `held` is also referenced by a deleted backup; `gone` only by a deleted one.
    const db2 = await backup('t1', 's3_standard');
    await putChunk(db, write(db2, 't1', 's3_standard', 0, held));
    const g = await putChunk(db, write(db2, 't1', 's3_standard', 1, gone));
    await setStatus(completed, 'completed');
    await setStatus(fb, 'failed');
    await setStatus(db2, 'deleted');

    // Within the grace period nothing goes.
    assert.deepEqual(await collectChunks(db, stores), { deleted: 0, failed: [] });
    await age();
    const res = await collectChunks(db, stores);
    assert.deepEqual(res, { deleted: 2, failed: [] });
    assert.equal(await exists('s3_standard', k.objectKey), true);
    assert.equal(await exists('s3_standard', h.objectKey), true);
    assert.equal(await exists('s3_standard', f.objectKey), false);
    assert.equal(await exists('s3_standard', g.objectKey), false);
    assert.deepEqual((await chunksOfBackup(db, completed)).map((c) => c.objectKey), [k.objectKey, h.objectKey]);
    assert.deepEqual(await chunksOfBackup(db, fb), []);
  });

  it('the newest incremental copy of a tier keeps its chunks once deleted, as the next backup\'s base, for the base keep', async () => {
    const copy = async (hoursAgo: number, status: BackupStatus, tier: StorageTier = 's3_standard') => {
      const id = randomUUID();
      await db.execute(sql`insert into backup_jobs (id, tenant_id, storage_tier, status, backup_type, started_at)
        values (${id}::uuid, 't1', ${tier}, ${status}, 'incremental', now() - make_interval(hours => ${hoursAgo}))`);
      return id;
    };
    const [older, base, newer, cold] = [crypto.randomBytes(100), crypto.randomBytes(100), crypto.randomBytes(100), crypto.randomBytes(100)];
    const o = await putChunk(db, write(await copy(48, 'deleted'), 't1', 's3_standard', 0, older));
    const b = await putChunk(db, write(await copy(24, 'deleted'), 't1', 's3_standard', 0, base));
    // Another tier's newest copy is its own base.
    const c = await putChunk(db, write(await copy(30, 'deleted', 'b2_cold'), 't1', 'b2_cold', 0, cold));
    await age();
    assert.deepEqual(await collectChunks(db, stores), { deleted: 1, failed: [] });
    assert.equal(await exists('s3_standard', o.objectKey), false, 'an older deleted copy\'s chunk goes');
    assert.equal(await exists('s3_standard', b.objectKey), true, 'the newest copy\'s chunk stays: the next backup\'s base');
    assert.equal(await exists('b2_cold', c.objectKey), true);

    // A newer copy takes over as the base: the old base's chunk goes.
    await putChunk(db, write(await copy(1, 'completed'), 't1', 's3_standard', 0, newer));
    await age();
    assert.deepEqual(await collectChunks(db, stores), { deleted: 1, failed: [] });
    assert.equal(await exists('s3_standard', b.objectKey), false);
    // Past the base keep, a deleted newest copy protects nothing.
    assert.deepEqual(await collectChunks(db, stores, { baseKeepSeconds: 29 * 3600 }), { deleted: 1, failed: [] });
    assert.equal(await exists('b2_cold', c.objectKey), false);
  });

  it('a chunk claimed by collection is uploaded again under a new key, which collection does not touch', async () => {
    const data = crypto.randomBytes(2048);
    const old = await backup('t1', 's3_standard', 'deleted');
    const first = await putChunk(db, write(old, 't1', 's3_standard', 0, data));
    await age();
    const b = await backup('t1', 's3_standard');
    let second: Awaited<ReturnType<typeof putChunk>> | null = null;
    const res = await collectChunks(db, stores, {
      // Collection has claimed the chunk; the backup comes now, before the object is deleted.
      afterClaim: async () => {
        second = await putChunk(db, write(b, 't1', 's3_standard', 0, data));
      },
    });
    assert.equal(res.deleted, 1);
    assert.ok(second);
    const s = second as Awaited<ReturnType<typeof putChunk>>;
    assert.equal(s.reused, false);
    assert.notEqual(s.objectKey, first.objectKey);
    assert.equal(await exists('s3_standard', first.objectKey), false);
    assert.equal(await exists('s3_standard', s.objectKey), true);
    assert.deepEqual((await chunksOfBackup(db, b)).map((c) => c.objectKey), [s.objectKey]);
  });

  it('a reuse holding the row makes collection skip the chunk, and its fresh reference protects it after', async () => {
    const data = crypto.randomBytes(2048);
    const old = await backup('t1', 's3_standard', 'deleted');
    const first = await putChunk(db, write(old, 't1', 's3_standard', 0, data));
    await age();
    const b = await backup('t1', 's3_standard');
    const mac = chunkMac(chunkNamingKey(SECRET, 't1'), data);
    // The backup's reuse statement, held open in a transaction while collection runs.
    await db.transaction(async (tx) => {
      await tx.execute(sql`update chunks set last_referenced_at = now() where chunk_mac = ${mac}`);
      await tx.execute(sql`insert into backup_chunks (backup_id, position, chunk_id) select ${b}::uuid, 0, id from chunks where chunk_mac = ${mac}`);
      assert.deepEqual(await collectChunks(db, stores), { deleted: 0, failed: [] });
    });
    assert.deepEqual(await collectChunks(db, stores), { deleted: 0, failed: [] });
    await age(); // even long after: the running backup's reference keeps it
    assert.deepEqual(await collectChunks(db, stores), { deleted: 0, failed: [] });
    assert.equal(await exists('s3_standard', first.objectKey), true);
  });

  it('raced with collection, a backup never ends up referencing a missing chunk', async () => {
    const rounds = 40;
    const outcomes = { reused: 0, uploaded: 0 };
    for (let i = 0; i < rounds; i++) {
      const data = crypto.randomBytes(1024);
      const old = await backup('t1', 's3_standard', 'deleted');
      await putChunk(db, write(old, 't1', 's3_standard', 0, data));
      await age();
      const b = await backup('t1', 's3_standard');
      const jitter = () => new Promise((r) => setTimeout(r, crypto.randomInt(0, 4)));
      const [stored] = await Promise.all([
        jitter().then(() => putChunk(db, write(b, 't1', 's3_standard', 0, data))),
        jitter().then(() => collectChunks(db, stores)),
      ]);
      outcomes[stored.reused ? 'reused' : 'uploaded']++;
      // Later collections (after the grace period, too) must not take it either.
      await collectChunks(db, stores);
      await age();
      await collectChunks(db, stores);
      const refs = await chunksOfBackup(db, b);
      assert.equal(refs.length, 1, `round ${i}: the backup lost its chunk reference`);
      assert.equal(await exists('s3_standard', refs[0]!.objectKey), true, `round ${i}: the referenced object is gone`);
      await setStatus(b, 'deleted');
      await collectChunks(db, stores);
    }
    assert.equal(outcomes.reused + outcomes.uploaded, rounds);
  });

  it('an uploaded chunk nobody recorded is deleted once older than the grace period', async () => {
    const b = await backup('t1', 'b2_cold');
    let orphan = '';
    await assert.rejects(
      putChunk(db, write(b, 't1', 'b2_cold', 0, crypto.randomBytes(512), {
        afterUpload: async (key) => {
          orphan = key;
          throw new Error('worker killed');
        },
      })),
      /worker killed/,
    );
    const kept = await putChunk(db, write(b, 't1', 'b2_cold', 1, crypto.randomBytes(512)));
    assert.equal(await collectOrphanChunkObjects(db, stores, ['t1']), 0, 'within the grace period');
    assert.equal(await collectOrphanChunkObjects(db, stores, ['t1'], { graceSeconds: 0 }), 1);
    assert.equal(await exists('b2_cold', orphan), false);
    assert.equal(await exists('b2_cold', kept.objectKey), true);
  });
});
