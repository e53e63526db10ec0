// The incremental backup pipeline (design.md "Incremental backups"): the dump is taken in full, but
// only the chunks not already stored for this tenant in a storage tier are uploaded there.
//
//   pg_dump -Fc -Z0 ─▶ [rate limit] ─▶ sha256+count (dump) ─▶ content-defined chunks (lib/chunks/cdc.ts)
//     ─▶ per chunk: keyed name ─▶ per storage tier: reference the tenant's stored chunk, or
//        zstd -2 + age (in process, once for all tiers) ─▶ upload ─▶ record (lib/chunks/store.ts)
//
// At most CHUNKS_IN_FLIGHT chunks are worked on at once and chunkStream is pulled only as they finish,
// so memory is bounded by a few chunks (≤ 4 MiB each) whatever the dump's size. Any failure stops
// pg_dump and fails the whole copy; the chunks stored so far stay catalogued (a retry or the next
// backup reuses them) or, referenced only by a failed backup, are collected after the grace period.
import { createHash, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Db } from '../db/client.ts';
import { jobTempDirPrefix } from '../domain.ts';
import type { Config } from '../env.ts';
import { redactSecrets } from '../process/redact.ts';
import type { ObjectStore } from '../storage/types.ts';
import { chunkStream } from '../chunks/cdc.ts';
import { codecReady, encodeChunk } from '../chunks/codec.ts';
import { chunkListDigest, type ChunkEntry } from '../chunks/list.ts';
import { chunkMac, chunkNamingKey } from '../chunks/names.ts';
import { putChunk } from '../chunks/store.ts';
import { startPgDump } from './dump.ts';
import { BackupPipelineError, reasonText } from './pipeline.ts';
import { RateLimit } from './streams.ts';

/** Chunks compressed, encrypted or uploaded at once. */
export const CHUNKS_IN_FLIGHT = 4;

export interface ChunkTarget {
  /** The backup copy (backup_jobs row) the chunks are referenced from. */
  backupId: string;
  store: ObjectStore;
}

export interface ChunkedDumpOptions {
  db: Db;
  config: Config;
  dumpGroup: string;
  tenantId: string;
  schemaName: string;
  recipients: string[];
  /** Secret the chunk names are keyed with (chunkNamingSecret). */
  namingSecret: Buffer;
  targets: ChunkTarget[];
  signal?: AbortSignal;
  /** Stored bytes of the first copy so far (reused chunks count with their size), about once per `progressIntervalMs`. */
  onProgress?: (storedBytes: number) => void;
  progressIntervalMs?: number;
}

/** One incremental copy: its chunk list and what it stores. */
export interface ChunkedCopy {
  chunks: ChunkEntry[];
  /** Sum of the chunks' stored sizes: what a restore of this copy downloads. */
  storedBytes: number;
  /** Stored bytes this backup uploaded (chunks the tier did not hold yet). */
  addedBytes: number;
  /** chunkListDigest(chunks): the copy's sha256_stored. */
  sha256Stored: string;
}

export interface ChunkedDumpResult {
  dumpBytes: number;
  sha256Dump: string;
  /** One per target, in order. */
  copies: ChunkedCopy[];
}

/** The chunk naming secret: derived from the manifest signing key, which never goes to a bucket. */
export function chunkNamingSecret(signingKey: KeyObject): Buffer {
  return signingKey.export({ format: 'der', type: 'pkcs8' });
}

export async function streamChunkedDump(options: ChunkedDumpOptions): Promise<ChunkedDumpResult> {
  const { config, targets, signal } = options;
  if (targets.length === 0) throw new Error('a backup needs at least one upload target');
  if (options.recipients.length === 0) throw new Error('a backup needs at least one age recipient');
  if (signal?.aborted) throw new BackupPipelineError(`backup cancelled: ${reasonText(signal.reason)}`);
  await codecReady();
  const redact = (text: string) => redactSecrets(text, config);
  const namingKey = chunkNamingKey(options.namingSecret, options.tenantId);
  const workDir = await fs.promises.mkdtemp(path.join(config.STRATA_TMP_DIR, jobTempDirPrefix({ kind: 'backup', jobKey: options.dumpGroup })));
  const pgDump = startPgDump(config, options.schemaName, workDir);
  const copies: ChunkedCopy[] = targets.map(() => ({ chunks: [], storedBytes: 0, addedBytes: 0, sha256Stored: '' }));
  const dumpHash = createHash('sha256');
  let dumpBytes = 0;
  let failure: Error | null = null;
  const fail = (err: unknown) => {
    failure ??= err instanceof Error ? err : new Error(String(err));
    pgDump.stop();
  };
  const onCancel = () => fail(new Error(`backup cancelled: ${reasonText(signal?.reason)}`));
  signal?.addEventListener('abort', onCancel, { once: true });
  let reported = -1;
  const timer = setInterval(() => {
    if (copies[0]!.storedBytes === reported) return;
    reported = copies[0]!.storedBytes;
    options.onProgress?.(reported);
  }, options.progressIntervalMs ?? 1000);

  const storeChunk = async (position: number, plain: Buffer) => {
    const mac = chunkMac(namingKey, plain);
    let encoded: Buffer | undefined;
    const encode = async () => (encoded ??= encodeChunk(plain, options.recipients));
    await Promise.all(
      targets.map(async (t, i) => {
        let stored;
        try {
          stored = await putChunk(options.db, { backupId: t.backupId, position, tenantId: options.tenantId, store: t.store, mac, plainBytes: plain.length, encode });
        } catch (err) {
          throw new Error(`chunk ${position} to ${t.store.location('')}: ${redact(err instanceof Error ? err.message : String(err))}`, { cause: err });
        }
        const copy = copies[i]!;
        copy.chunks[position] = { key: stored.objectKey, plain_bytes: stored.plainBytes, stored_bytes: stored.storedBytes, sha256_stored: stored.sha256Stored };
        copy.storedBytes += stored.storedBytes;
        if (!stored.reused) copy.addedBytes += stored.storedBytes;
      }),
    );
  };

  async function* counted(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const buf of source) {
      dumpHash.update(buf);
      dumpBytes += buf.length;
      yield buf;
    }
  }

  try {
    const source: Readable =
      config.STRATA_DUMP_MAX_RATE_MB > 0 ? pgDump.stdout.pipe(new RateLimit(config.STRATA_DUMP_MAX_RATE_MB * 1024 * 1024)) : pgDump.stdout;
    const inFlight = new Set<Promise<void>>();
    let position = 0;
    try {
      for await (const plain of chunkStream(counted(source))) {
        if (failure) break;
        const task: Promise<void> = storeChunk(position++, plain).catch(fail).finally(() => inFlight.delete(task));
        inFlight.add(task);
        while (inFlight.size >= CHUNKS_IN_FLIGHT) await Promise.race(inFlight);
      }
    } catch (err) {
      // A read error after pg_dump was stopped is a consequence of the failure recorded first.
      fail(err);
    }
    await Promise.all(inFlight);
    await pgDump.exited.catch((err: Error) => {
      if (!pgDump.stopped) fail(err);
    });
    if (failure) throw failure;
    return {
      dumpBytes,
      sha256Dump: dumpHash.digest('hex'),
      copies: copies.map((c) => ({ ...c, sha256Stored: chunkListDigest(c.chunks) })),
    };
  } catch (err) {
    throw new BackupPipelineError(redact(err instanceof Error ? err.message : String(err)), { cause: err });
  } finally {
    clearInterval(timer);
    signal?.removeEventListener('abort', onCancel);
    pgDump.stop();
    await pgDump.exited.catch(() => {});
    await fs.promises.rm(workDir, { recursive: true, force: true });
  }
}
