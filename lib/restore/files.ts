// Reading a backup copy's files back (design.md "Tenant files"): the index, checked against the signed
// manifest; each file's chunks, each checked against its sha256 before it is decrypted, and the file
// against its SHA-256 before its write completes. A file restore writes only the objects whose
// current content differs (compared by SHA-256, never by ETag), deletes objects the index does not
// list only when asked, and goes on past a failed file so the report says what was and was not written.
import { createHash } from 'node:crypto';
import { codecReady, decodeChunk } from '../chunks/codec.ts';
import { prefixOfObjectKey } from '../backup/manifest.ts';
import type { Identity } from '../crypto/age.ts';
import { readChunk } from './fetch-chunks.ts';
import { InvalidDumpError } from './errors.ts';
import type { RestoreManifest } from './manifest.ts';
import { parseLocation, type ObjectStore } from '../storage/types.ts';
import type { FilesBucket, ListedFile } from '../storage/files-bucket.ts';
import { FILES_INDEX_OBJECT, filesIndexProblems, parseFilesIndex, sha256Hex, type FileEntry, type FilesIndex } from '../files/index-format.ts';
import { FILES_IN_FLIGHT } from '../files/backup.ts';
import { allAtMost } from './staged.ts';

/** The index is a few hundred bytes per file; more than this is not an index Strata wrote. */
const MAX_INDEX_BYTES = 512 * 1024 * 1024;

export class FileRestoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FileRestoreError';
  }
}

/** The copy's file index, or an InvalidDumpError naming why it cannot be the one the manifest signs. */
export async function readFilesIndex(store: ObjectStore, manifest: RestoreManifest, identities: Identity[]): Promise<FilesIndex> {
  const summary = manifest.files;
  if (!summary) throw new InvalidDumpError(`backup ${manifest.backup.id} holds no files (it was taken without includeFiles)`);
  const expectedKey = prefixOfObjectKey(parseLocation(manifest.backup.backup_location).key) + FILES_INDEX_OBJECT;
  if (summary.index_key !== expectedKey) throw new InvalidDumpError(`the manifest names the file index ${summary.index_key}, not ${expectedKey} beside it`);
  const where = store.location(summary.index_key);
  const parts: Buffer[] = [];
  let total = 0;
  let body;
  try {
    body = await store.get(summary.index_key);
  } catch (err) {
    if (store.isNotFound(err)) throw new InvalidDumpError(`the file index ${where} is missing`, { cause: err });
    throw err;
  }
  for await (const part of body as AsyncIterable<Uint8Array>) {
    total += part.length;
    if (total > MAX_INDEX_BYTES) throw new InvalidDumpError(`the file index ${where} is larger than ${MAX_INDEX_BYTES} bytes`);
    parts.push(Buffer.from(part));
  }
  const stored = Buffer.concat(parts, total);
  const sha = sha256Hex(stored);
  if (sha !== summary.sha256_stored) throw new InvalidDumpError(`the file index ${where} is corrupt: sha256 ${sha}, the manifest says ${summary.sha256_stored}`);
  await codecReady();
  let index: FilesIndex;
  try {
    index = parseFilesIndex(decodeChunk(stored, identities, summary.index_plain_bytes).toString('utf8'));
  } catch (err) {
    throw new InvalidDumpError(`the file index ${where} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  const problems = filesIndexProblems(index, summary, manifest.backup.id, manifest.tenant.id);
  if (problems.length > 0) throw new InvalidDumpError(`the file index ${where} is not the backup's: ${problems.join('; ')}`);
  return index;
}

/**
 * A file's content from its chunks, in order: each chunk checked (size, sha256) and decrypted; the
 * whole checked against the file's SHA-256 before the last piece is handed on, so a write fed by it
 * fails (and a multipart upload is aborted) rather than completing with wrong content.
 */
export async function* fileContent(store: ObjectStore, entry: FileEntry, identities: Identity[], signal?: AbortSignal): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  let held: Buffer | null = null;
  for (const [i, c] of entry.chunks.entries()) {
    signal?.throwIfAborted();
    let plain: Buffer;
    try {
      plain = decodeChunk(await readChunk(store, c, i, signal), identities, c.plain_bytes);
    } catch (err) {
      throw new FileRestoreError(`file ${entry.key}: ${(err as Error).message}`, { cause: err });
    }
    hash.update(plain);
    if (held) yield held;
    held = plain;
  }
  const sha = hash.digest('hex');
  if (sha !== entry.sha256) throw new FileRestoreError(`file ${entry.key}: its content has sha256 ${sha}, the index says ${entry.sha256}`);
  if (held) yield held;
}

export interface FilesRestoreReport {
  objects_total: number;
  objects_done: number;
  bytes_total: number;
  bytes_done: number;
  /** Objects written back (their content differed or they were gone). */
  written: number;
  /** Objects whose content already was the backed-up one. */
  unchanged: number;
  /** Objects not in the index, deleted (only with deleteExtra). */
  deleted: number;
  /** Objects that could not be written (or, with deleteExtra, deleted), with why. */
  failed: { key: string; error: string }[];
}

export interface FilesRestoreOptions {
  store: ObjectStore;
  manifest: RestoreManifest;
  identities: Identity[];
  bucket: FilesBucket;
  /** Where the files go: the tenant's prefix, or a clone's new one. */
  targetPrefix: string;
  deleteExtra: boolean;
  signal?: AbortSignal;
  onProgress?: (report: FilesRestoreReport) => void;
}

async function contentSha256(bucket: FilesBucket, key: string): Promise<string> {
  const { body } = await bucket.get(key);
  const hash = createHash('sha256');
  for await (const part of body as AsyncIterable<Uint8Array>) hash.update(part);
  return hash.digest('hex');
}

export async function restoreTenantFiles(options: FilesRestoreOptions): Promise<FilesRestoreReport> {
  const { store, bucket, targetPrefix, signal } = options;
  const index = await readFilesIndex(store, options.manifest, options.identities);
  const current = new Map<string, ListedFile>();
  for await (const o of bucket.list(targetPrefix)) current.set(o.key.slice(targetPrefix.length), o);
  const report: FilesRestoreReport = {
    objects_total: index.files.length,
    objects_done: 0,
    bytes_total: index.files.reduce((n, f) => n + f.size, 0),
    bytes_done: 0,
    written: 0,
    unchanged: 0,
    deleted: 0,
    failed: [],
  };
  options.onProgress?.({ ...report });

  const restoreOne = async (entry: FileEntry) => {
    const key = targetPrefix + entry.key;
    const now = current.get(entry.key);
    // Same size: compare content; another size is another content.
    if (now && now.size === entry.size && (await contentSha256(bucket, key)) === entry.sha256) {
      report.unchanged++;
      return;
    }
    await bucket.put(key, fileContent(store, entry, options.identities, signal), { contentType: entry.content_type, metadata: entry.metadata, size: entry.size }, signal);
    report.written++;
  };

  // A failed file is recorded and the others go on: the runs never throw, allAtMost only bounds them.
  await allAtMost(
    FILES_IN_FLIGHT,
    index.files,
    async (entry) => {
      try {
        await restoreOne(entry);
      } catch (err) {
        report.failed.push({ key: entry.key, error: err instanceof Error ? err.message : String(err) });
      } finally {
        report.objects_done++;
        report.bytes_done += entry.size;
        options.onProgress?.({ ...report });
      }
    },
    signal,
  );

  if (options.deleteExtra) {
    const listed = new Set(index.files.map((f) => f.key));
    for (const key of current.keys()) {
      if (listed.has(key)) continue;
      try {
        await bucket.delete(targetPrefix + key);
        report.deleted++;
      } catch (err) {
        report.failed.push({ key, error: `not deleted: ${err instanceof Error ? err.message : String(err)}` });
      }
    }
  }
  report.failed.sort((a, b) => (a.key < b.key ? -1 : 1));
  options.onProgress?.({ ...report });
  return report;
}

/** Reads every file of the copy back and checks it (verify): the first bad file fails it, named. */
export async function verifyFiles(store: ObjectStore, manifest: RestoreManifest, identities: Identity[], signal?: AbortSignal): Promise<{ files: number; bytes: number }> {
  const index = await readFilesIndex(store, manifest, identities);
  let bytes = 0;
  for (const entry of index.files) {
    for await (const part of fileContent(store, entry, identities, signal)) bytes += part.length;
  }
  return { files: index.files.length, bytes };
}

/** The one-line account of a file restore that did not write everything: counts and the first keys not written. */
export function describeFilesFailure(report: FilesRestoreReport): string {
  const shown = report.failed.slice(0, 10).map((f) => `${f.key} (${f.error})`);
  const more = report.failed.length > shown.length ? `; and ${report.failed.length - shown.length} more` : '';
  return (
    `files: ${report.written} written, ${report.unchanged} already equal, ${report.deleted} deleted, ${report.failed.length} not written of ${report.objects_total}: ` +
    `${shown.join('; ')}${more}`
  );
}
