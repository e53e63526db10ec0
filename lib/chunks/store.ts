// The chunk store of incremental backups (design.md "Incremental backups"): per tenant and storage
// tier, content-addressed by a keyed hash (names.ts), catalogued in `chunks` / `backup_chunks`.
//
// Reuse and collection meet on the chunk's row, never on in-process state:
// - a backup reuses a live chunk in ONE statement that sets last_referenced_at (taking the row lock)
//   and inserts its backup_chunks reference; a chunk it uploads is inserted with its reference in
//   one statement too;
// - collection claims a chunk in one UPDATE that requires gc_started_at null, last_referenced_at
//   older than the grace period, no reference from a backup that could still complete (any status
//   but failed and deleted), and none from the tenant's newest incremental copy in that tier while it
//   is younger than CHUNK_BASE_KEEP_SECONDS (the next backup's base). PostgreSQL re-checks the row's own columns after waiting for its lock,
//   so a reuse committed first makes the claim skip the row; a claim committed first makes the reuse
//   find nothing, and the backup uploads a fresh object under a new key (the random suffix), which
//   the collector, deleting the old key, cannot touch.
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import type { StorageTier } from '../domain.ts';
import type { Stores } from '../storage/registry.ts';
import type { ObjectStore } from '../storage/types.ts';
import { chunkObjectKey, chunksPrefix, parseChunkKey } from './names.ts';
import { CHUNK_BASE_KEEP_SECONDS, CHUNK_GRACE_SECONDS } from '../retention/chunks.ts';

export interface ChunkRow {
  id: number;
  objectKey: string;
  plainBytes: number;
  storedBytes: number;
  sha256Stored: string;
}

export interface StoredChunk extends ChunkRow {
  /** True when an existing object was referenced, false when this call uploaded it. */
  reused: boolean;
}

export interface ChunkWrite {
  /** The backup copy (backup_jobs row) the chunk belongs to, and the chunk's place in its dump. */
  backupId: string;
  /** The chunk's place in the dump; for a file chunk (`files`), unused. */
  position: number;
  /** Where the reference goes: the dump's chunk list (backup_chunks, default) or the copy's file chunks (backup_file_chunks). */
  files?: boolean;
  tenantId: string;
  store: ObjectStore;
  /** chunkMac of the plaintext. */
  mac: string;
  plainBytes: number;
  /** The stored form (compressed, encrypted); only called when the chunk must be uploaded. */
  encode: () => Promise<Buffer>;
  /** Test hook: after the upload, before the catalog insert. */
  afterUpload?: (objectKey: string) => Promise<void>;
}

interface RawChunkRow extends Record<string, unknown> {
  id: string | number;
  object_key: string;
  plain_bytes: string | number;
  stored_bytes: string | number;
  sha256_stored: string;
}

const toRow = (r: RawChunkRow): ChunkRow => ({
  id: Number(r.id),
  objectKey: r.object_key,
  plainBytes: Number(r.plain_bytes),
  storedBytes: Number(r.stored_bytes),
  sha256Stored: r.sha256_stored,
});

/**
 * The statement that references chunk `id` from the copy: a dump position, or (files) the set of the
 * copy's file chunks, where the same content may come twice (two equal files) and is kept once.
 */
function referenceSql(w: ChunkWrite, from: 'touched' | 'added') {
  const source = sql.raw(from);
  return w.files
    ? sql`insert into backup_file_chunks (backup_id, chunk_id) select ${w.backupId}::uuid, id from ${source} on conflict do nothing returning chunk_id`
    : sql`insert into backup_chunks (backup_id, position, chunk_id) select ${w.backupId}::uuid, ${w.position}, id from ${source} returning chunk_id`;
}

/** References the tenant's live chunk of this content in this tier, if there is one. */
async function reuse(db: Db, w: ChunkWrite): Promise<ChunkRow | null> {
  const res = await db.execute<RawChunkRow>(sql`
    with touched as (
      update chunks set last_referenced_at = now()
      where tenant_id = ${w.tenantId} and storage_tier = ${w.store.tier} and chunk_mac = ${w.mac} and gc_started_at is null
      returning id, object_key, plain_bytes, stored_bytes, sha256_stored
    ), ref as (${referenceSql(w, 'touched')})
    select touched.* from touched${w.files ? sql`` : sql` join ref on ref.chunk_id = touched.id`}`);
  const row = res.rows[0];
  return row ? toRow(row) : null;
}

/**
 * Stores one chunk of a backup copy: references the live object of the same content for this
 * tenant and tier, or uploads it and records it. Two backups uploading the same new content at once
 * both upload; the second to record it deletes its own object and references the first's.
 */
export async function putChunk(db: Db, w: ChunkWrite): Promise<StoredChunk> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await reuse(db, w);
    if (existing) return { ...existing, reused: true };

    const body = await w.encode();
    const objectKey = chunkObjectKey(w.tenantId, w.mac);
    await w.store.put(objectKey, body, { contentType: 'application/octet-stream' });
    await w.afterUpload?.(objectKey);
    const sha256Stored = crypto.createHash('sha256').update(body).digest('hex');
    const res = await db.execute<RawChunkRow>(sql`
      with added as (
        insert into chunks (tenant_id, storage_tier, chunk_mac, object_key, plain_bytes, stored_bytes, sha256_stored)
        values (${w.tenantId}, ${w.store.tier}, ${w.mac}, ${objectKey}, ${w.plainBytes}, ${body.length}, ${sha256Stored})
        on conflict (tenant_id, storage_tier, chunk_mac) where gc_started_at is null do nothing
        returning id, object_key, plain_bytes, stored_bytes, sha256_stored
      ), ref as (${referenceSql(w, 'added')})
      select added.* from added${w.files ? sql`` : sql` join ref on ref.chunk_id = added.id`}`);
    const row = res.rows[0];
    if (row) return { ...toRow(row), reused: false };
    // Someone recorded this content first: ours is a duplicate.
    await w.store.delete(objectKey);
  }
  throw new Error(`chunk ${w.position} of backup ${w.backupId}: the same content kept being stored concurrently; giving up`);
}

/** Forgets a backup copy's references (a new attempt of the same backup starts from none). */
export async function dropChunkReferences(db: Db, backupId: string): Promise<void> {
  await db.execute(sql`delete from backup_chunks where backup_id = ${backupId}::uuid`);
  await db.execute(sql`delete from backup_file_chunks where backup_id = ${backupId}::uuid`);
  await db.execute(sql`delete from backup_files where backup_id = ${backupId}::uuid`);
}

/** A backup copy's chunks in dump order. */
export async function chunksOfBackup(db: Db, backupId: string): Promise<ChunkRow[]> {
  const res = await db.execute<RawChunkRow>(sql`
    select c.id, c.object_key, c.plain_bytes, c.stored_bytes, c.sha256_stored
    from backup_chunks bc join chunks c on c.id = bc.chunk_id
    where bc.backup_id = ${backupId}::uuid order by bc.position`);
  return res.rows.map(toRow);
}

export interface CollectOptions {
  graceSeconds?: number;
  baseKeepSeconds?: number;
  /** Only this tenant's chunks (erasure of a removed tenant). */
  tenantId?: string;
  /** Chunks claimed per statement. */
  batch?: number;
  /** Test hook: called with the claimed rows before their objects are deleted. */
  afterClaim?: (claimed: { id: number; objectKey: string }[]) => Promise<void>;
}

export interface CollectResult {
  deleted: number;
  failed: { objectKey: string; error: string }[];
}

/**
 * Deletes chunks no backup that could still complete references, once unreferenced for the grace
 * period: claim (one UPDATE, see the header), delete the object, delete the row (its references
 * from failed and deleted backups go with it). A claimed chunk whose delete failed or was cut short
 * is finished by the next run.
 */
export async function collectChunks(db: Db, stores: Stores, opts: CollectOptions = {}): Promise<CollectResult> {
  const grace = opts.graceSeconds ?? CHUNK_GRACE_SECONDS;
  const baseKeep = opts.baseKeepSeconds ?? CHUNK_BASE_KEEP_SECONDS;
  const batch = opts.batch ?? 500;
  const result: CollectResult = { deleted: 0, failed: [] };
  const failedIds = new Set<number>();
  for (;;) {
    const claimed = await db.execute<{ id: string | number; object_key: string; storage_tier: StorageTier }>(sql`
      update chunks c set gc_started_at = coalesce(c.gc_started_at, now())
      where c.id in (
        select k.id from chunks k
        where (k.gc_started_at is not null
               or (k.last_referenced_at < now() - make_interval(secs => ${grace})
                   and not exists (select 1 from backup_chunks bc join backup_jobs b on b.id = bc.backup_id
                                   where bc.chunk_id = k.id and b.status not in ('failed', 'deleted'))
                   and not exists (select 1 from backup_file_chunks fc join backup_jobs b on b.id = fc.backup_id
                                   where fc.chunk_id = k.id and b.status not in ('failed', 'deleted'))
                   and not exists (select 1 from backup_chunks bc
                                   where bc.chunk_id = k.id and bc.backup_id = (
                                     select b.id from backup_jobs b
                                     where b.tenant_id = k.tenant_id and b.storage_tier = k.storage_tier and b.backup_type = 'incremental'
                                       and b.status in ('completed', 'deleted') and b.started_at > now() - make_interval(secs => ${baseKeep})
                                     order by b.started_at desc, b.seq desc limit 1))))
          and k.id not in (select jsonb_array_elements_text(${JSON.stringify([...failedIds])}::jsonb)::bigint)
          and (${opts.tenantId ?? null}::text is null or k.tenant_id = ${opts.tenantId ?? null})
        order by k.id limit ${batch}
        for update skip locked)
      and (c.gc_started_at is not null or c.last_referenced_at < now() - make_interval(secs => ${grace}))
      returning c.id, c.object_key, c.storage_tier`);
    const rows = claimed.rows.map((r) => ({ id: Number(r.id), objectKey: r.object_key, tier: r.storage_tier }));
    if (rows.length === 0) return result;
    await opts.afterClaim?.(rows);
    for (const r of rows) {
      try {
        await stores.forTier(r.tier).delete(r.objectKey);
        await db.execute(sql`delete from chunks where id = ${r.id} and gc_started_at is not null`);
        result.deleted++;
      } catch (err) {
        failedIds.add(r.id);
        result.failed.push({ objectKey: r.objectKey, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }
}

/**
 * Chunk objects no catalog row names (an upload whose backup died before recording it), older than
 * the grace period: deleted. Lists `backups/<tenant>/chunks/` of every tenant in every bucket.
 */
export async function collectOrphanChunkObjects(db: Db, stores: Stores, tenantIds: string[], opts: { graceSeconds?: number } = {}): Promise<number> {
  const grace = (opts.graceSeconds ?? CHUNK_GRACE_SECONDS) * 1000;
  let deleted = 0;
  const seen = new Set<string>();
  for (const store of stores.all()) {
    const bucket = store.location('');
    if (seen.has(bucket)) continue;
    seen.add(bucket);
    for (const tenantId of tenantIds) {
      const candidates: string[] = [];
      for await (const o of store.list(chunksPrefix(tenantId))) {
        if (!parseChunkKey(o.key)) continue;
        if (o.lastModified && Date.now() - o.lastModified.getTime() < grace) continue;
        candidates.push(o.key);
      }
      if (candidates.length === 0) continue;
      const known = await db.execute<{ object_key: string }>(sql`select object_key from chunks where object_key in (select jsonb_array_elements_text(${JSON.stringify(candidates)}::jsonb))`);
      const names = new Set(known.rows.map((r) => r.object_key));
      for (const key of candidates) {
        if (names.has(key)) continue;
        await store.delete(key);
        deleted++;
      }
    }
  }
  return deleted;
}

/**
 * The catalog rows of an incremental copy taken in by `catalog rebuild` from its (verified) manifest:
 * each listed chunk object gets a `chunks` row unless it has one, and the copy references them in
 * order. Idempotent. When the tier already has a live row for the same content under another key
 * (two objects of one content survived), this key is catalogued under a name reuse never looks up
 * (`<mac>:<key suffix>`): the copy references the very object its manifest names, and nothing reuses it.
 */
export async function recordRebuiltChunks(
  db: Db,
  copy: { backupId: string; tenantId: string; tier: StorageTier },
  chunks: readonly { key: string; plain_bytes: number; stored_bytes: number; sha256_stored: string }[],
  /** The copy's file chunks (files-chunks.json, distinct keys) rather than its dump's. */
  options: { files?: boolean } = {},
): Promise<void> {
  const rows = chunks.map((c, position) => {
    const parsed = parseChunkKey(c.key);
    if (!parsed || parsed.tenantId !== copy.tenantId) throw new Error(`chunk ${position} (${c.key}) is not one of tenant ${copy.tenantId}'s chunks`);
    return { position, key: c.key, mac: parsed.mac, nonce: parsed.nonce, plain_bytes: c.plain_bytes, stored_bytes: c.stored_bytes, sha256_stored: c.sha256_stored };
  });
  const json = JSON.stringify(rows);
  const recordset = sql`jsonb_to_recordset(${json}::jsonb) as x(position int, key text, mac text, nonce text, plain_bytes bigint, stored_bytes bigint, sha256_stored text)`;
  await db.transaction(async (tx) => {
    for (const mac of [sql`x.mac`, sql`x.mac || ':' || x.nonce`]) {
      await tx.execute(sql`
        insert into chunks (tenant_id, storage_tier, chunk_mac, object_key, plain_bytes, stored_bytes, sha256_stored)
        select distinct on (x.key) ${copy.tenantId}, ${copy.tier}, ${mac}, x.key, x.plain_bytes, x.stored_bytes, x.sha256_stored
        from ${recordset}
        where not exists (select 1 from chunks c where c.object_key = x.key)
        on conflict do nothing`);
    }
    await tx.execute(
      options.files
        ? sql`insert into backup_file_chunks (backup_id, chunk_id)
              select ${copy.backupId}::uuid, c.id from ${recordset} join chunks c on c.object_key = x.key
              on conflict do nothing`
        : sql`insert into backup_chunks (backup_id, position, chunk_id)
              select ${copy.backupId}::uuid, x.position, c.id from ${recordset} join chunks c on c.object_key = x.key
              on conflict do nothing`,
    );
    const refs = await tx.execute<{ n: string | number }>(
      options.files
        ? sql`select count(*) as n from backup_file_chunks where backup_id = ${copy.backupId}::uuid`
        : sql`select count(*) as n from backup_chunks where backup_id = ${copy.backupId}::uuid`,
    );
    if (Number(refs.rows[0]!.n) !== rows.length) throw new Error(`backup ${copy.backupId}: ${refs.rows[0]!.n} of its ${rows.length} chunks could be catalogued`);
  });
}
