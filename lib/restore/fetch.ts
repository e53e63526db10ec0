// Step one of every restore and verification (docs/design.md "Restore": verify first): refuse at once
// without enough temp space, download the stored object checking its size and sha256, decrypt with
// the age CLI, decompress with zstd (an incremental copy: its chunks, fetch-chunks.ts), check the dump's size and sha256, let `pg_restore --list` read it,
// and refuse it when its table of contents holds anything outside the tenant's schema (toc-check.ts).
// Streaming end to end: memory stays bounded whatever the backup's size. The manifest passed in must
// come from readTrustedManifest (signed, matching the catalog): its checksums are what is checked here.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../env.ts';
import { jobTempDirPrefix, type LeftoverOwner } from '../domain.ts';
import { TOOLS } from '../process/system-tools.ts';
import type { ObjectStore } from '../storage/types.ts';
import { parseLocation } from '../storage/types.ts';
import {
  BackupObjectMissingError,
  CorruptBackupError,
  ForeignTocEntryError,
  InvalidDumpError,
  NotEnoughSpaceError,
  RestoreAbortedError,
  RestoreRequestError,
  TruncatedBackupError,
  WrongKeyError,
} from './errors.ts';
import type { RestoreManifest } from './manifest.ts';
import { entriesOutsideSchema, listedEntryIds, readArchiveToc } from './toc-check.ts';
import { assembleChunks } from './fetch-chunks.ts';
import { redactSecrets } from '../process/redact.ts';
import { runTool, startTool, ToolFailedError } from '../process/tool-process.ts';

const MiB = 1024 * 1024;

export type FetchPhase = 'downloading' | 'decrypting' | 'checking';

export interface FetchProgress {
  phase: FetchPhase;
  /** Bytes of the stored object downloaded (downloading) or of the dump written (decrypting). */
  bytes: number;
  totalBytes: number;
}

export interface FetchOptions {
  store: ObjectStore;
  /** The backup's `backup_location` (`s3://…` / `b2://…`). */
  location: string;
  manifest: RestoreManifest;
  config: Config;
  signal?: AbortSignal;
  onProgress?: (progress: FetchProgress) => void;
  /** The job the download is for: its key names the temp dir (the owner mark the sweep reads). */
  owner: LeftoverOwner;
}

export interface FetchedDump {
  /** The verified `pg_dump -Fc` archive. */
  dumpPath: string;
  /** Its private working directory in STRATA_TMP_DIR (other files of the restore may go here). */
  workDir: string;
  /** `pg_restore --list` of the archive. */
  toc: string;
  /** Removes the working directory; safe to call twice. */
  cleanup(): Promise<void>;
}

/** Pass-through that hashes and counts (and reports) what flows through. */
class Meter extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;
  constructor(private readonly onBytes?: (n: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.onBytes?.(this.bytes);
    cb(null, chunk);
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

/** Bytes a restore of this backup needs in STRATA_TMP_DIR: both files plus the configured reserve. */
export function spaceNeeded(manifest: RestoreManifest, config: Config): number {
  return manifest.backup.backup_size_bytes + manifest.backup.dump_size_bytes + config.STRATA_TMP_MIN_FREE_MB * MiB;
}

/** Throws NotEnoughSpaceError unless STRATA_TMP_DIR has room for `needed` bytes. */
export async function checkFreeSpace(dir: string, needed: number): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true });
  const st = await fs.promises.statfs(dir);
  const free = Number(st.bavail) * Number(st.bsize);
  if (free < needed) throw new NotEnoughSpaceError(dir, needed, free);
}

function throttled(onProgress: FetchOptions['onProgress'], phase: FetchPhase, totalBytes: number) {
  let last = 0;
  return (bytes: number) => {
    const now = Date.now();
    if (now - last < 250 && bytes < totalBytes) return;
    last = now;
    onProgress?.({ phase, bytes, totalBytes });
  };
}

export async function fetchVerifiedDump(options: FetchOptions): Promise<FetchedDump> {
  const { location, manifest, config, signal } = options;
  const b = manifest.backup;
  // Refuse before downloading a byte (docs/design.md "Restore").
  await checkFreeSpace(config.STRATA_TMP_DIR, spaceNeeded(manifest, config));
  if (!config.BACKUP_DECRYPTION_IDENTITY_FILE) {
    throw new RestoreRequestError('BACKUP_DECRYPTION_IDENTITY_FILE is not set: restores and verifications need the age identity file');
  }
  const workDir = await fs.promises.mkdtemp(path.join(config.STRATA_TMP_DIR, jobTempDirPrefix(options.owner)));
  const cleanup = () => fs.promises.rm(workDir, { recursive: true, force: true });
  try {
    signal?.throwIfAborted();
    const dumpPath = path.join(workDir, 'dump.pgdump');
    if (manifest.backup.backup_type === 'incremental' || manifest.chunks) {
      await fetchChunks(options, dumpPath);
    } else {
      const storedPath = path.join(workDir, 'dump.zst.age');
      await download(options, storedPath);
      signal?.throwIfAborted();
      await decrypt(options, storedPath, dumpPath);
      await fs.promises.rm(storedPath, { force: true });
    }
    options.onProgress?.({ phase: 'checking', bytes: b.dump_size_bytes, totalBytes: b.dump_size_bytes });
    let toc: string;
    try {
      toc = await runTool(TOOLS.pgRestore, ['--list', dumpPath], { redact: (t) => redactSecrets(t, config), signal });
    } catch (err) {
      throw new InvalidDumpError(`pg_restore cannot read the dump of ${location}: ${(err as Error).message}`, { cause: err });
    }
    await checkContents(dumpPath, toc, manifest.tenant.schema_name, location);
    return { dumpPath, workDir, toc, cleanup };
  } catch (err) {
    await cleanup();
    if (signal?.aborted) throw new RestoreAbortedError();
    throw err;
  }
}

/** Refuses, before anything is replayed, a dump holding entries outside the tenant's schema. */
async function checkContents(dumpPath: string, list: string, schema: string, location: string): Promise<void> {
  let entries;
  try {
    entries = await readArchiveToc(dumpPath);
  } catch (err) {
    throw new InvalidDumpError(`cannot read the table of contents of the dump of ${location}: ${(err as Error).message}`, { cause: err });
  }
  const outside = entriesOutsideSchema(entries, schema, listedEntryIds(list));
  if (outside.length > 0) throw new ForeignTocEntryError(location, schema, outside);
}

/** An incremental copy: its chunks, checked one by one, then the whole dump like a full backup's. */
async function fetchChunks(options: FetchOptions, dumpPath: string): Promise<void> {
  const { location, manifest, config } = options;
  const b = manifest.backup;
  const onBytes = throttled(options.onProgress, 'downloading', b.backup_size_bytes);
  const dump = await assembleChunks(
    { store: options.store, location, manifest, identityFile: config.BACKUP_DECRYPTION_IDENTITY_FILE!, signal: options.signal, onBytes },
    dumpPath,
  );
  if (dump.bytes !== b.dump_size_bytes) throw new TruncatedBackupError('dump', b.dump_size_bytes, dump.bytes, location);
  if (dump.sha256 !== b.sha256_dump) throw new CorruptBackupError('dump', b.sha256_dump, dump.sha256, location);
}

async function download(options: FetchOptions, storedPath: string): Promise<void> {
  const { store, location, manifest, signal } = options;
  const b = manifest.backup;
  const { key } = parseLocation(location);
  let body;
  try {
    body = await store.get(key);
  } catch (err) {
    if (store.isNotFound(err)) throw new BackupObjectMissingError(location, { cause: err });
    throw err;
  }
  const meter = new Meter(throttled(options.onProgress, 'downloading', b.backup_size_bytes));
  await pipeline(body, meter, fs.createWriteStream(storedPath), { signal });
  options.onProgress?.({ phase: 'downloading', bytes: meter.bytes, totalBytes: b.backup_size_bytes });
  if (meter.bytes !== b.backup_size_bytes) throw new TruncatedBackupError('stored object', b.backup_size_bytes, meter.bytes, location);
  const sha = meter.digest();
  if (sha !== b.sha256_stored) throw new CorruptBackupError('stored object', b.sha256_stored, sha, location);
}

async function decrypt(options: FetchOptions, storedPath: string, dumpPath: string): Promise<void> {
  const { config, location, manifest, signal } = options;
  const b = manifest.backup;
  const redact = (t: string) => redactSecrets(t, config);
  const age = startTool(TOOLS.age, ['-d', '-i', config.BACKUP_DECRYPTION_IDENTITY_FILE!, storedPath], {
    stdin: 'ignore',
    redact,
    signal,
  });
  const zstd = startTool(TOOLS.zstd, ['-d', '-c', '-q'], { redact, signal });
  const meter = new Meter(throttled(options.onProgress, 'decrypting', b.dump_size_bytes));
  const results = await Promise.allSettled([
    age.exited,
    zstd.exited,
    pipeline(age.stdout, zstd.stdin),
    pipeline(zstd.stdout, meter, fs.createWriteStream(dumpPath), { signal }),
  ]);
  const ageResult = results[0];
  if (ageResult.status === 'rejected') {
    const stderr = ageResult.reason instanceof ToolFailedError ? ageResult.reason.stderr : String(ageResult.reason);
    if (/no identity matched/i.test(stderr)) throw new WrongKeyError(location, manifest.encryption?.recipients ?? []);
    throw new InvalidDumpError(`age cannot decrypt ${location}: ${stderr}`, { cause: ageResult.reason });
  }
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    const reason = (failed as PromiseRejectedResult).reason as Error;
    throw new InvalidDumpError(`cannot decompress ${location}: ${redact(reason.message)}`, { cause: reason });
  }
  if (meter.bytes !== b.dump_size_bytes) throw new TruncatedBackupError('dump', b.dump_size_bytes, meter.bytes, location);
  const sha = meter.digest();
  if (sha !== b.sha256_dump) throw new CorruptBackupError('dump', b.sha256_dump, sha, location);
}
