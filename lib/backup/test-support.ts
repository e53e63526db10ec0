// Shared by the backup and catalog tests: reading stored objects back with standard tools, looking
// into the B2 server, and store wrappers that fail on purpose.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import type { Config } from '../env.ts';
import type { Stores } from '../storage/registry.ts';
import type { ObjectStore } from '../storage/types.ts';
import type { StorageTier } from '../domain.ts';

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

export async function download(store: ObjectStore, key: string): Promise<Buffer> {
  return readAll(await store.get(key));
}

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function run(command: string, args: string[], input?: Buffer): Buffer {
  const res = spawnSync(command, args, { input, maxBuffer: 1024 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${res.status}): ${res.stderr?.toString()}`);
  return res.stdout;
}

/** `age -d -i identity | zstd -d`: the raw pg_dump archive of a stored object. */
export function decryptDump(stored: Buffer, identityFile: string): Buffer {
  return run('zstd', ['-d', '-c'], run('age', ['-d', '-i', identityFile], stored));
}

/** `pg_restore --list` of a custom-format archive. */
export function restoreList(dump: Buffer): string {
  return run('pg_restore', ['--list'], dump).toString('utf8');
}

/** TOC entries of `pg_restore --list` (the lines that are not comments). */
export function tocEntries(list: string): string[] {
  return list.split('\n').filter((line) => line.trim() !== '' && !line.startsWith(';'));
}

export async function listKeys(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(o.key);
  return keys.sort();
}

/** The B2 server's native API, authorized with the configured key (test hooks and listings stores don't offer). */
export async function b2Api(config: Config) {
  const basic = `Basic ${Buffer.from(`${config.B2_APPLICATION_KEY_ID}:${config.B2_APPLICATION_KEY}`).toString('base64')}`;
  const auth = (await (await fetch(`${config.B2_AUTH_URL}/b2api/v2/b2_authorize_account`, { headers: { Authorization: basic } })).json()) as {
    apiUrl: string;
    authorizationToken: string;
  };
  const call = async <T>(op: string, body: Record<string, unknown>): Promise<T> => {
    const res = await fetch(`${auth.apiUrl}/b2api/v2/${op}`, {
      method: 'POST',
      headers: { Authorization: auth.authorizationToken, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${op}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  return {
    async unfinishedLargeFiles(namePrefix = ''): Promise<{ fileName: string }[]> {
      const out = await call<{ files: { fileName: string }[] }>('b2_list_unfinished_large_files', { bucketId: config.B2_BUCKET_ID, namePrefix });
      return out.files;
    },
    async fileVersions(prefix: string): Promise<{ fileName: string; action: string }[]> {
      const out = await call<{ files: { fileName: string; action: string }[] }>('b2_list_file_versions', {
        bucketId: config.B2_BUCKET_ID,
        prefix,
        maxFileCount: 1000,
      });
      return out.files;
    },
    async failNextUploads(n: number): Promise<void> {
      const res = await fetch(`${config.B2_AUTH_URL}/__strata/fail-uploads`, {
        method: 'POST',
        headers: { Authorization: basic, 'Content-Type': 'application/json' },
        body: JSON.stringify({ n }),
      });
      if (!res.ok) throw new Error(`fail-uploads: ${res.status}`);
    },
  };
}

/** A store whose uploads call `onPassed` once `afterBytes` bytes of the body went by (and fail then if it throws). */
export function tappingUploads(store: ObjectStore, afterBytes: number, onPassed: () => void): ObjectStore {
  return {
    ...store,
    location: (key) => store.location(key),
    put(key, body, options) {
      if (Buffer.isBuffer(body)) return store.put(key, body, options);
      let seen = 0;
      const tap = new Transform({
        transform(chunk: Buffer, _enc, callback) {
          seen += chunk.length;
          if (seen <= afterBytes) return callback(null, chunk);
          try {
            onPassed();
            callback(null, chunk);
          } catch (err) {
            callback(err as Error);
          }
        },
      });
      body.on('error', (err) => tap.destroy(err));
      body.pipe(tap);
      return store.put(key, tap, options);
    },
    get: (key, range) => store.get(key, range),
    head: (key) => store.head(key),
    list: (prefix) => store.list(prefix),
    delete: (key) => store.delete(key),
    isNotFound: (err) => store.isNotFound(err),
    isPermanent: (err) => store.isPermanent(err),
  };
}

/** A store whose uploads fail after `afterBytes` bytes of the body (a store refusing mid-way). */
export function failingMidway(store: ObjectStore, afterBytes: number, message = 'injected: the store refused the upload'): ObjectStore {
  return tappingUploads(store, afterBytes, () => {
    throw new Error(message);
  });
}

/** The same stores, with one tier replaced. */
export function replacingTier(stores: Stores, tier: StorageTier, replacement: ObjectStore): Stores {
  return {
    forTier: (t) => (t === tier ? replacement : stores.forTier(t)),
    forLocation: (location) => {
      const store = stores.forLocation(location);
      return store.tier === tier ? replacement : store;
    },
    all: () => stores.all().map((s) => (s.tier === tier ? replacement : s)),
  };
}
