// Backing up a tenant's files (design.md "Tenant files"), after its dump:
//
//   ListObjectsV2 (every page) of the tenant's prefix ─▶ per object, per storage tier:
//     same ETag and size as the tier's previous index entry ─▶ reference that entry's chunks again (no download)
//     otherwise ─▶ GetObject ─▶ sha256 + content-defined chunks ─▶ reference or upload each chunk (lib/chunks/store.ts)
//   ─▶ per tier: the file index (zstd + age) beside the manifest, and its rows in backup_files.
//
// Content is stored once per tenant per storage tier (the chunk store's rule): a file that did not
// change, or whose content another file or the dump already holds, adds nothing. At most
// FILES_IN_FLIGHT files are read at once, each a chunk at a time, so memory does not grow with a
// file's size or the number of files (only the index, a few hundred bytes per file, is held).
import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { backupFiles } from '../db/schema.ts';
import type { StorageTier } from '../domain.ts';
import type { ObjectStore } from '../storage/types.ts';
import { chunkStream, cutPoints, DEFAULT_CHUNKER_OPTIONS } from '../chunks/cdc.ts';
import { codecReady, encodeChunk } from '../chunks/codec.ts';
import type { ChunkEntry } from '../chunks/list.ts';
import { chunkMac, chunkNamingKey, parseChunkKey } from '../chunks/names.ts';
import { putChunk } from '../chunks/store.ts';
import type { FileHead, FilesBucket } from '../storage/files-bucket.ts';
import {
  distinctChunks,
  FILES_CHUNKS_OBJECT,
  FILES_INDEX_FORMAT,
  FILES_INDEX_OBJECT,
  indexBytes,
  indexStoredBytes,
  sha256Hex,
  type FileEntry,
  type FilesIndex,
  type ManifestFiles,
} from './index-format.ts';

/** Files read and stored at once. */
export const FILES_IN_FLIGHT = 4;

/** Files up to one chunk's maximum are read whole (never more than this per file in flight). */
const SMALL_FILE_BYTES = DEFAULT_CHUNKER_OPTIONS.maxSize;

export interface FilesTarget {
  /** The backup copy (backup_jobs row) the chunks and the index belong to. */
  backupId: string;
  store: ObjectStore;
  /** The copy's object prefix (`backups/<tenant>/<YYYY>/<MM>/<uuid>/`): the index goes there. */
  prefix: string;
}

export interface FilesProgress {
  objects_done: number;
  objects_total: number;
  bytes_done: number;
  bytes_total: number;
}

export interface FilesBackupOptions {
  db: Db;
  bucket: FilesBucket;
  tenantId: string;
  /** The tenant's files prefix. */
  prefix: string;
  targets: FilesTarget[];
  /** Secret the chunk names are keyed with (chunkNamingSecret). */
  namingSecret: Buffer;
  recipients: string[];
  signal?: AbortSignal;
  onProgress?: (p: FilesProgress) => void;
}

export interface FilesCopy {
  /** What manifest.json says of this copy's files. */
  summary: ManifestFiles;
  /** Stored bytes of file chunks this copy uploaded. */
  addedBytes: number;
}

export interface FilesBackupResult {
  copies: FilesCopy[];
  /** Objects and bytes read from the files bucket (unchanged files are not). */
  downloadedFiles: number;
  downloadedBytes: number;
}

/** A previous entry's chunks are gone from the tier: the file must be read again. */
class ContentNeeded extends Error {}

interface PreviousEntry {
  etag: string;
  size: number;
  entry: FileEntry;
}

/** The file index of the tenant's newest completed copy with files in this tier and prefix, by key. */
async function previousIndex(db: Db, tenantId: string, tier: StorageTier, prefix: string): Promise<Map<string, PreviousEntry>> {
  const res = await db.execute<{ key: string; etag: string; size: string | number; entry: FileEntry }>(sql`
    select f.key, f.etag, f.size, f.entry from backup_files f
    where f.backup_id = (
      select b.id from backup_jobs b
      where b.tenant_id = ${tenantId} and b.storage_tier = ${tier} and b.include_files and b.status = 'completed' and b.files_prefix = ${prefix}
      order by b.completed_at desc, b.seq desc limit 1)`);
  return new Map(res.rows.map((r) => [r.key, { etag: r.etag, size: Number(r.size), entry: r.entry }]));
}

export async function backupTenantFiles(options: FilesBackupOptions): Promise<FilesBackupResult> {
  const { db, bucket, tenantId, prefix, targets, signal } = options;
  await codecReady();
  const namingKey = chunkNamingKey(options.namingSecret, tenantId);
  const previous = await Promise.all(targets.map((t) => previousIndex(db, tenantId, t.store.tier, prefix)));

  // The listing comes after the dump: its snapshot was taken first (README "Tenant files").
  const listed = [];
  for await (const o of bucket.list(prefix)) listed.push(o);
  const progress: FilesProgress = { objects_done: 0, objects_total: listed.length, bytes_done: 0, bytes_total: listed.reduce((n, o) => n + o.size, 0) };
  options.onProgress?.({ ...progress });

  const entries: FileEntry[][] = targets.map(() => []);
  const added = targets.map(() => 0);
  let downloadedFiles = 0;
  let downloadedBytes = 0;

  const put = async (i: number, mac: string, plainBytes: number, encode: () => Promise<Buffer>): Promise<ChunkEntry> => {
    const t = targets[i]!;
    const stored = await putChunk(db, { backupId: t.backupId, position: 0, files: true, tenantId, store: t.store, mac, plainBytes, encode });
    if (!stored.reused) added[i]! += stored.storedBytes;
    return { key: stored.objectKey, plain_bytes: stored.plainBytes, stored_bytes: stored.storedBytes, sha256_stored: stored.sha256Stored };
  };

  const entryOf = (key: string, head: FileHead, sha256: string, chunks: ChunkEntry[]): FileEntry => ({
    key,
    size: head.size,
    etag: head.etag,
    sha256,
    last_modified: head.lastModified.toISOString(),
    content_type: head.contentType,
    metadata: head.metadata,
    chunks,
  });

  const backupOne = async (objectKey: string, listedEtag: string, listedSize: number) => {
    const key = objectKey.slice(prefix.length);
    // Unchanged since a tier's previous backup: its chunks are referenced again, nothing is read.
    const pending: number[] = [];
    let head: FileHead | null = null;
    for (const [i, prev] of previous.entries()) {
      const p = prev.get(key);
      if (!p || p.etag !== listedEtag || p.size !== listedSize) {
        pending.push(i);
        continue;
      }
      try {
        const chunks: ChunkEntry[] = [];
        for (const c of p.entry.chunks) {
          const mac = parseChunkKey(c.key)?.mac;
          if (!mac) throw new ContentNeeded();
          chunks.push(await put(i, mac, c.plain_bytes, () => Promise.reject(new ContentNeeded())));
        }
        head ??= await bucket.head(objectKey);
        if (!head) return; // deleted since the listing
        entries[i]!.push(entryOf(key, head, p.entry.sha256, chunks));
      } catch (err) {
        if (!(err instanceof ContentNeeded)) throw err;
        pending.push(i);
      }
    }
    if (pending.length === 0) return;

    let got;
    try {
      got = await bucket.get(objectKey);
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') return; // deleted since the listing
      throw err;
    }
    downloadedFiles++;
    const hash = createHash('sha256');
    const chunkLists: ChunkEntry[][] = pending.map(() => []);
    let bytes = 0;
    const storeChunk = async (plain: Buffer) => {
      if (signal?.aborted) throw new Error('backup cancelled');
      const mac = chunkMac(namingKey, plain);
      let encoded: Buffer | undefined;
      const encode = async () => (encoded ??= encodeChunk(plain, options.recipients));
      const stored = await Promise.all(pending.map((i) => put(i, mac, plain.length, encode)));
      stored.forEach((c, j) => chunkLists[j]!.push(c));
    };
    try {
      if (got.head.size <= SMALL_FILE_BYTES) {
        // At most one chunk's worth: read whole and cut in place (the same cuts the stream chunker makes),
        // without a streaming chunker's maxSize buffer per file.
        const whole = Buffer.allocUnsafe(got.head.size);
        for await (const part of got.body as AsyncIterable<Uint8Array>) {
          if (bytes + part.length > whole.length) throw new Error(`${bucket.location(objectKey)} sent more than its ${got.head.size} bytes`);
          whole.set(part, bytes);
          bytes += part.length;
        }
        hash.update(whole.subarray(0, bytes));
        let start = 0;
        for (const cut of cutPoints(whole.subarray(0, bytes))) {
          await storeChunk(whole.subarray(start, cut));
          start = cut;
        }
      } else {
        async function* counted(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
          for await (const b of source) {
            const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
            hash.update(buf);
            bytes += buf.length;
            yield buf;
          }
        }
        for await (const plain of chunkStream(counted(got.body))) await storeChunk(plain);
      }
    } catch (err) {
      got.body.destroy();
      throw err;
    }
    downloadedBytes += bytes;
    if (bytes !== got.head.size) throw new Error(`${bucket.location(objectKey)}: read ${bytes} bytes, the object has ${got.head.size}`);
    const sha256 = hash.digest('hex');
    pending.forEach((i, j) => entries[i]!.push(entryOf(key, got.head, sha256, chunkLists[j]!)));
  };

  const inFlight = new Set<Promise<void>>();
  let failure: Error | null = null;
  for (const o of listed) {
    if (failure || signal?.aborted) break;
    const task: Promise<void> = backupOne(o.key, o.etag, o.size)
      .catch((err: unknown) => {
        failure ??= new Error(`file ${o.key}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      })
      .finally(() => {
        inFlight.delete(task);
        progress.objects_done++;
        progress.bytes_done += o.size;
        options.onProgress?.({ ...progress });
      });
    inFlight.add(task);
    while (inFlight.size >= FILES_IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (signal?.aborted) throw new Error('backup cancelled');
  if (failure) throw failure;

  const copies: FilesCopy[] = [];
  for (const [i, t] of targets.entries()) {
    const files = entries[i]!.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const index: FilesIndex = { format: FILES_INDEX_FORMAT, backup_id: t.backupId, tenant_id: tenantId, prefix, files };
    const plain = indexBytes(index);
    const stored = encodeChunk(plain, options.recipients);
    const indexKey = t.prefix + FILES_INDEX_OBJECT;
    await t.store.put(indexKey, stored, { contentType: 'application/octet-stream' });
    const chunkList = distinctChunks(files);
    const chunksJson = Buffer.from(`${JSON.stringify(chunkList)}\n`, 'utf8');
    const chunksKey = t.prefix + FILES_CHUNKS_OBJECT;
    await t.store.put(chunksKey, chunksJson, { contentType: 'application/json' });
    for (let k = 0; k < files.length; k += 500) {
      await db
        .insert(backupFiles)
        .values(files.slice(k, k + 500).map((f) => ({ backupId: t.backupId, key: f.key, size: f.size, etag: f.etag, sha256: f.sha256, entry: f })))
        .onConflictDoNothing();
    }
    copies.push({
      summary: {
        index_key: indexKey,
        prefix,
        count: files.length,
        bytes: files.reduce((n, f) => n + f.size, 0),
        stored_bytes: indexStoredBytes(files),
        sha256_stored: sha256Hex(stored),
        index_plain_bytes: plain.length,
        chunks_key: chunksKey,
        chunks_count: chunkList.length,
        chunks_sha256: sha256Hex(chunksJson),
      },
      addedBytes: added[i]!,
    });
  }
  return { copies, downloadedFiles, downloadedBytes };
}
