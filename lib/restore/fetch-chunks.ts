// Rebuilding the dump of an incremental copy (design.md "Incremental backups"): its manifest's chunks
// are downloaded in order (a few ahead), each checked against the sha256 and size the manifest
// records, decrypted and decompressed in process, and appended to the dump file; the whole dump is
// then checked like a full backup's. A missing, altered or undecryptable chunk fails the fetch naming
// the chunk, before anything is replayed. The chunk list itself is checked first: it must be the list
// the catalog's sha256_stored names, only the tenant's own chunks, and add up to the dump's size.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { codecReady, decodeChunk } from '../chunks/codec.ts';
import { chunkListDigest, chunkListProblems, type ChunkEntry } from '../chunks/list.ts';
import { parseIdentityFile, type Identity } from '../crypto/age.ts';
import type { ObjectStore } from '../storage/types.ts';
import { BackupObjectMissingError, CorruptBackupError, InvalidDumpError, RestoreRequestError, TruncatedBackupError, WrongKeyError } from './errors.ts';
import type { RestoreManifest } from './manifest.ts';

/** Chunks downloaded ahead of the one being written. */
const PREFETCH = 4;

export interface ChunkFetchOptions {
  store: ObjectStore;
  location: string;
  manifest: RestoreManifest;
  identityFile: string;
  signal?: AbortSignal;
  /** Stored bytes downloaded so far. */
  onBytes?: (bytes: number) => void;
}

/** Checks the manifest's chunk list against what the catalog and the manifest say of the copy. */
export function checkChunkList(manifest: RestoreManifest, location: string): ChunkEntry[] {
  const chunks = manifest.chunks;
  const b = manifest.backup;
  if (!chunks) throw new InvalidDumpError(`manifest of ${location} is an incremental backup's but lists no chunks`);
  const digest = chunkListDigest(chunks);
  if (digest !== b.sha256_stored) {
    throw new InvalidDumpError(`the chunk list in the manifest of ${location} is not the backup's: its digest is ${digest}, the backup's sha256_stored ${b.sha256_stored}`);
  }
  const problems = chunkListProblems(chunks, manifest.tenant.id, b.dump_size_bytes);
  const stored = chunks.reduce((n, c) => n + c.stored_bytes, 0);
  if (stored !== b.backup_size_bytes) problems.push(`the chunks store ${stored} bytes, the backup ${b.backup_size_bytes}`);
  if (problems.length > 0) throw new InvalidDumpError(`the chunk list of ${location} is unusable: ${problems.join('; ')}`);
  return chunks;
}

export function loadIdentities(file: string): Identity[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new RestoreRequestError(`cannot read BACKUP_DECRYPTION_IDENTITY_FILE: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return parseIdentityFile(text);
  } catch (err) {
    throw new RestoreRequestError(`BACKUP_DECRYPTION_IDENTITY_FILE holds no usable age identity: ${(err as Error).message}`);
  }
}

export async function readChunk(store: ObjectStore, c: ChunkEntry, i: number, signal?: AbortSignal): Promise<Buffer> {
  const where = store.location(c.key);
  let body;
  try {
    body = await store.get(c.key);
  } catch (err) {
    if (store.isNotFound(err)) throw new BackupObjectMissingError(`${where} (chunk ${i})`, { cause: err });
    throw err;
  }
  const parts: Buffer[] = [];
  let total = 0;
  for await (const part of body as AsyncIterable<Uint8Array>) {
    signal?.throwIfAborted();
    total += part.length;
    // More than the manifest says is already wrong: stop reading instead of buffering it.
    if (total > c.stored_bytes) break;
    parts.push(Buffer.from(part));
  }
  if (total !== c.stored_bytes) throw new TruncatedBackupError(`chunk ${i}`, c.stored_bytes, total, where);
  const bytes = Buffer.concat(parts, total);
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== c.sha256_stored) throw new CorruptBackupError(`chunk ${i}`, c.sha256_stored, sha, where);
  return bytes;
}

/**
 * Writes the copy's dump to `dumpPath` and returns its sha256 and size (the caller compares them with
 * the manifest's). The manifest must come from readTrustedManifest.
 */
export async function assembleChunks(options: ChunkFetchOptions, dumpPath: string): Promise<{ bytes: number; sha256: string }> {
  const { store, location, manifest, signal } = options;
  const chunks = checkChunkList(manifest, location);
  const identities = loadIdentities(options.identityFile);
  await codecReady();
  const fetches: (Promise<Buffer> | undefined)[] = [];
  const start = (i: number) => {
    const p = readChunk(store, chunks[i]!, i, signal);
    p.catch(() => {}); // awaited in order below; an early failure must not go unhandled meanwhile
    fetches[i] = p;
  };
  const out = fs.createWriteStream(dumpPath);
  // An error flag rather than a promise raced at every chunk: each race would leave a reaction on a
  // promise that never settles, keeping every chunk it resolved with alive (memory growing with the dump).
  let outError: Error | null = null;
  out.on('error', (err) => (outError ??= err));
  const settled = (event: 'drain' | 'finish') =>
    new Promise<void>((resolve, reject) => {
      if (outError) return reject(outError);
      const done = (err?: Error) => {
        out.off(event, onEvent);
        out.off('error', done);
        if (err) reject(err);
        else resolve();
      };
      const onEvent = () => done();
      out.once(event, onEvent);
      out.once('error', done);
    });
  const hash = createHash('sha256');
  let bytes = 0;
  let downloaded = 0;
  try {
    let next = 0;
    for (let i = 0; i < chunks.length; i++) {
      while (next < chunks.length && next <= i + PREFETCH) start(next++);
      const stored = await fetches[i]!;
      fetches[i] = undefined;
      if (outError) throw outError;
      downloaded += stored.length;
      options.onBytes?.(downloaded);
      let plain: Buffer;
      try {
        plain = decodeChunk(stored, identities, chunks[i]!.plain_bytes);
      } catch (err) {
        if (/no identity matches/i.test((err as Error).message)) throw new WrongKeyError(location, manifest.encryption?.recipients ?? []);
        throw new InvalidDumpError(`chunk ${i} of ${location} (${store.location(chunks[i]!.key)}) cannot be read: ${(err as Error).message}`, { cause: err });
      }
      hash.update(plain);
      bytes += plain.length;
      if (!out.write(plain)) await settled('drain');
      signal?.throwIfAborted();
    }
    const finished = settled('finish');
    out.end();
    await finished;
  } finally {
    out.destroy();
  }
  return { bytes, sha256: hash.digest('hex') };
}
