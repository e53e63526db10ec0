import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startB2Server, type B2Server } from '../b2server/index.ts';
import { createB2Store, type B2StoreOptions } from './b2.ts';
import { chunkedStream, readAll, storageSuite } from './conformance.ts';

const KEY_ID = 'strata-storage-key-id';
const KEY = 'strata-storage-key';
const BUCKET = 'strata-cold-test';
const MiB = 1024 * 1024;

async function startServer(): Promise<{ server: B2Server; dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'strata-b2store-'));
  return { server: await startB2Server({ dir, port: 0, keyId: KEY_ID, key: KEY, buckets: [BUCKET] }), dir };
}

function storeOptions(server: B2Server, extra: Partial<B2StoreOptions> = {}): B2StoreOptions {
  return {
    bucketName: BUCKET,
    bucketId: server.bucketIds[BUCKET]!,
    keyId: KEY_ID,
    key: KEY,
    authUrl: server.url,
    partSizeMb: 5,
    listPageSize: 7,
    baseDelayMs: 20,
    ...extra,
  };
}

/** B2 calls straight to the server, bypassing the store: what is really stored. */
function rawClient(server: B2Server) {
  let auth: { authorizationToken: string; apiUrl: string } | undefined;
  async function call(name: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    for (let i = 0; i < 2; i++) {
      auth ??= (await (
        await fetch(`${server.url}/b2api/v2/b2_authorize_account`, {
          headers: { Authorization: `Basic ${Buffer.from(`${KEY_ID}:${KEY}`).toString('base64')}` },
        })
      ).json()) as typeof auth;
      const res = await fetch(`${auth!.apiUrl}/b2api/v2/${name}`, {
        method: 'POST',
        headers: { Authorization: auth!.authorizationToken, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as Record<string, unknown>;
      if (res.status === 401) {
        auth = undefined;
        continue;
      }
      if (res.status !== 200) throw new Error(`${name}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    }
    throw new Error(`${name}: unauthorized`);
  }
  const bucketId = server.bucketIds[BUCKET]!;
  return {
    async versions(key: string): Promise<number> {
      const r = await call('b2_list_file_versions', { bucketId, prefix: key, startFileName: key, maxFileCount: 1000 });
      return (r.files as { fileName: string }[]).filter((f) => f.fileName === key).length;
    },
    async unfinishedUploads(prefix: string): Promise<number> {
      const r = await call('b2_list_unfinished_large_files', { bucketId, namePrefix: prefix, maxFileCount: 100 });
      return (r.files as unknown[]).length;
    },
  };
}

storageSuite('b2 on Strata B2 server', async () => {
  const { server, dir } = await startServer();
  return {
    store: createB2Store(storeOptions(server)),
    partSize: 5 * MiB,
    inspect: rawClient(server),
    async cleanup() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('b2 store specifics', () => {
  let server: B2Server;
  let dir: string;
  let raw: ReturnType<typeof rawClient>;
  before(async () => {
    ({ server, dir } = await startServer());
    raw = rawClient(server);
  });
  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('re-authorizes when the token expires mid-upload and finishes the large file', async () => {
    const store = createB2Store(storeOptions(server));
    const data = randomBytes(12 * MiB);
    let expired = false;
    const { size } = await store.put('expiry/large.bin', chunkedStream(data), {
      onProgress: (n) => {
        // After the first part: every token, account and upload URL alike, is refused from now on.
        if (n > 0 && !expired) {
          expired = true;
          server.expireTokens();
        }
      },
    });
    assert.ok(expired, 'tokens were expired during the upload');
    assert.equal(size, data.length);
    assert.deepEqual(await readAll(await store.get('expiry/large.bin')), data);
    server.expireTokens();
    assert.equal((await store.head('expiry/large.bin'))?.size, data.length, 'head re-authorizes too');
    server.expireTokens();
    assert.deepEqual(await readAll(await store.get('expiry/large.bin', { start: 5, end: 9 })), data.subarray(5, 10), 'get re-authorizes too');
  });

  it('retries failed uploads (503) with a new upload URL: small file', async () => {
    const store = createB2Store(storeOptions(server));
    server.failNextUploads(2);
    const data = randomBytes(1000);
    assert.deepEqual(await store.put('busy/small.bin', data), { size: 1000 });
    assert.deepEqual(await readAll(await store.get('busy/small.bin')), data);
  });

  it('retries failed uploads (503) with a new upload URL: parts of a large file', async () => {
    const store = createB2Store(storeOptions(server));
    const data = randomBytes(11 * MiB);
    server.failNextUploads(2);
    assert.deepEqual(await store.put('busy/large.bin', chunkedStream(data)), { size: data.length });
    assert.deepEqual(await readAll(await store.get('busy/large.bin')), data);
    assert.equal(await raw.unfinishedUploads('busy/'), 0);
  });

  it('gives up after its attempts, cancelling the large file', async () => {
    const store = createB2Store(storeOptions(server, { requestAttempts: 2 }));
    server.failNextUploads(5);
    await assert.rejects(store.put('busy/fails.bin', chunkedStream(randomBytes(11 * MiB))), (err: Error) => {
      assert.match(err.message, /b2_upload_part: 503 service_unavailable/);
      assert.ok(!store.isPermanent(err), 'a busy server is transient');
      return true;
    });
    server.failNextUploads(0);
    assert.equal(await store.head('busy/fails.bin'), null);
    assert.equal(await raw.unfinishedUploads('busy/fails.bin'), 0);
  });

  it('an abort while a part upload is in flight cancels the request and the large file', async () => {
    const store = createB2Store(storeOptions(server));
    const controller = new AbortController();
    server.setLatencyMs(300);
    try {
      const started = Date.now();
      const put = store.put('slow/aborted.bin', chunkedStream(randomBytes(11 * MiB)), { signal: controller.signal });
      setTimeout(() => controller.abort(), 700); // authorize + start_large_file + part URL take ~900 ms: the abort lands around them
      await assert.rejects(put, (err: Error) => err.name === 'AbortError');
      assert.ok(Date.now() - started < 5000, 'the abort does not wait for the whole upload');
    } finally {
      server.setLatencyMs(0);
    }
    assert.equal(await store.head('slow/aborted.bin'), null);
    assert.equal(await raw.unfinishedUploads('slow/'), 0);
    assert.equal(await raw.versions('slow/aborted.bin'), 0);
  });

  it('delete removes hidden versions too', async () => {
    const store = createB2Store(storeOptions(server));
    await store.put('hidden/x', Buffer.from('one'));
    await store.put('hidden/x', Buffer.from('two'));
    assert.equal(await raw.versions('hidden/x'), 2);
    await store.delete('hidden/x');
    assert.equal(await raw.versions('hidden/x'), 0);
  });

  it('two stores with the same key id work side by side (one shared client)', async () => {
    const a = createB2Store(storeOptions(server));
    const b = createB2Store(storeOptions(server));
    await a.put('shared/a', Buffer.from('a'));
    assert.equal((await b.head('shared/a'))?.size, 1);
  });

  it('a wrong key is a permanent error', async () => {
    const store = createB2Store(storeOptions(server, { keyId: 'someone-else', key: 'wrong' }));
    await assert.rejects(store.head('x'), (err: Error) => {
      assert.match(err.message, /b2_authorize_account: 401/);
      assert.ok(store.isPermanent(err));
      return true;
    });
  });
});
