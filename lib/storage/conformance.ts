// The one conformance suite every ObjectStore backend runs (restic's backend/test/suite.go, for Strata):
// s3.test.ts runs it against s3rver, b2.test.ts against Strata's B2 server. Not a test file by itself.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { isAbortError } from './errors.ts';
import type { ObjectInfo, ObjectStore } from './types.ts';

export interface StorageFixture {
  store: ObjectStore;
  cleanup(): Promise<void>;
  /** The store's multipart / large-file part size in bytes; the suite's big object spans ≥ 3 parts. Default 5 MiB. */
  partSize?: number;
  /** A look at the backend bypassing the store, where it keeps more than the store shows. */
  inspect?: {
    /** Every stored version of key (B2: b2_list_file_versions), including hidden ones. */
    versions(key: string): Promise<number>;
    /** Unfinished uploads whose name starts with prefix (B2: b2_list_unfinished_large_files). */
    unfinishedUploads(prefix: string): Promise<number>;
  };
}

const MiB = 1024 * 1024;

/** A stream of unknown length: the data in 256 KiB chunks, then optionally an error. */
export function chunkedStream(data: Buffer, options: { failWith?: Error; chunk?: number } = {}): Readable {
  const chunk = options.chunk ?? 256 * 1024;
  async function* chunks() {
    for (let off = 0; off < data.length; off += chunk) {
      yield data.subarray(off, off + chunk);
      await tick();
    }
    if (options.failWith) throw options.failWith;
  }
  return Readable.from(chunks(), { objectMode: false });
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(parts);
}

export async function collect(it: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const o of it) out.push(o);
  return out;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export function storageSuite(name: string, factory: () => Promise<StorageFixture>): void {
  describe(`ObjectStore conformance: ${name}`, () => {
    let fx: StorageFixture;
    let store: ObjectStore;
    // Every run writes under its own prefix so runs and suites never see each other's objects.
    const root = `conformance/${randomUUID()}`;

    async function assertGone(key: string) {
      assert.equal(await store.head(key), null, `${key} must not be visible`);
      assert.deepEqual(await collect(store.list(key)), [], `${key} must not be listed`);
      if (fx.inspect) {
        assert.equal(await fx.inspect.versions(key), 0, `${key} must have no stored version`);
        assert.equal(await fx.inspect.unfinishedUploads(key), 0, `${key} must have no unfinished upload`);
      }
    }

    before(async () => {
      fx = await factory();
      store = fx.store;
    });
    after(async () => {
      await fx?.cleanup();
    });

    it('names locations as scheme://bucket/key', () => {
      const loc = store.location('backups/t1/2026/11/x/dump.zst.age');
      assert.match(loc, /^(s3|b2):\/\/[^/]+\/backups\/t1\/2026\/11\/x\/dump\.zst\.age$/);
      assert.ok(loc.includes(`://${store.bucket}/`));
    });

    it('puts a buffer and reads it back', async () => {
      const key = `${root}/small.bin`;
      const data = randomBytes(1000);
      const seen: number[] = [];
      assert.deepEqual(await store.put(key, data, { contentType: 'application/octet-stream', onProgress: (n) => seen.push(n) }), { size: 1000 });
      assert.equal(seen.at(-1), 1000);
      const info = await store.head(key);
      assert.equal(info?.size, 1000);
      assert.equal(info?.key, key);
      assert.deepEqual(await readAll(await store.get(key)), data);
    });

    it('puts an empty body', async () => {
      const key = `${root}/empty.bin`;
      assert.deepEqual(await store.put(key, chunkedStream(Buffer.alloc(0))), { size: 0 });
      assert.equal((await store.head(key))?.size, 0);
      assert.equal((await readAll(await store.get(key))).length, 0);
    });

    it('puts a small stream of unknown length', async () => {
      const key = `${root}/small-stream.bin`;
      const data = randomBytes(300_000);
      assert.deepEqual(await store.put(key, chunkedStream(data, { chunk: 7000 })), { size: data.length });
      assert.deepEqual(await readAll(await store.get(key)), data);
    });

    describe('a stream spanning at least 3 parts', () => {
      const key = `${root}/big.bin`;
      let data: Buffer;
      before(() => {
        const partSize = fx.partSize ?? 5 * MiB;
        data = randomBytes(3 * partSize + MiB); // 16 MiB with 5 MiB parts: 4 parts, the last one short
      });

      it('stores it, reporting progress up to the final size', async () => {
        const seen: number[] = [];
        const { size } = await store.put(key, chunkedStream(data), { onProgress: (n) => seen.push(n) });
        assert.equal(size, data.length);
        assert.ok(seen.length >= 1, 'progress reported');
        assert.equal(seen.at(-1), data.length, 'final progress equals the size');
        for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! >= seen[i - 1]!, 'progress never goes back');
        assert.equal((await store.head(key))?.size, data.length);
      });

      it('reads it whole', async () => {
        assert.equal(sha256(await readAll(await store.get(key))), sha256(data));
      });

      it('reads ranges: first bytes, across a part boundary, the tail', async () => {
        const partSize = fx.partSize ?? 5 * MiB;
        assert.deepEqual(await readAll(await store.get(key, { start: 0, end: 99 })), data.subarray(0, 100));
        const mid = { start: partSize - 10, end: partSize + 9 };
        assert.deepEqual(await readAll(await store.get(key, mid)), data.subarray(mid.start, mid.end + 1));
        const tail = data.length - 1234;
        assert.deepEqual(await readAll(await store.get(key, { start: tail })), data.subarray(tail));
      });

      it('deletes it completely', async () => {
        await store.delete(key);
        await assertGone(key);
      });
    });

    it('head of an absent object is null', async () => {
      assert.equal(await store.head(`${root}/absent`), null);
    });

    it('get of an absent object rejects with a not-found, permanent error', async () => {
      await assert.rejects(store.get(`${root}/absent`), (err) => {
        assert.ok(store.isNotFound(err), `isNotFound: ${String(err)}`);
        assert.ok(store.isPermanent(err), 'not-found is permanent');
        return true;
      });
      await assert.rejects(store.get(`${root}/absent`, { start: 0, end: 9 }), (err) => store.isNotFound(err));
    });

    it('lists every object under a prefix, across pages', async () => {
      const prefix = `${root}/list/`;
      const keys = Array.from({ length: 30 }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);
      for (let i = 0; i < keys.length; i += 6) {
        await Promise.all(keys.slice(i, i + 6).map((k, j) => store.put(k, Buffer.alloc(i + j + 1, 7))));
      }
      await store.put(`${root}/list-sibling`, Buffer.from('x')); // shares the prefix but for the slash
      await store.put(`${root}/other/000`, Buffer.from('x'));
      const listed = await collect(store.list(prefix));
      assert.deepEqual(listed.map((o) => o.key).sort(), keys);
      for (const o of listed) assert.equal(o.size, keys.indexOf(o.key) + 1);
      assert.deepEqual(await collect(store.list(`${root}/nothing-here/`)), []);
    });

    it('delete removes an overwritten object completely (every version)', async () => {
      const key = `${root}/twice.bin`;
      await store.put(key, Buffer.from('first'));
      await store.put(key, Buffer.from('second version'));
      assert.equal((await store.head(key))?.size, 14);
      await store.delete(key);
      await assertGone(key);
      await assert.rejects(store.get(key), (err) => store.isNotFound(err));
    });

    it('delete of an absent object succeeds', async () => {
      await store.delete(`${root}/never-existed`);
      await store.delete(`${root}/never-existed`);
    });

    it('a body failing before the first part is full rejects put and stores nothing', async () => {
      const key = `${root}/fails-early.bin`;
      const boom = new Error('pg_dump exited with code 1');
      await assert.rejects(store.put(key, chunkedStream(randomBytes(100_000), { failWith: boom })), (err) => err === boom);
      await assertGone(key);
    });

    it('a body failing after several parts rejects put and leaves no object and no unfinished upload', async () => {
      const key = `${root}/fails-late.bin`;
      const partSize = fx.partSize ?? 5 * MiB;
      const boom = new Error('zstd: broken pipe');
      await assert.rejects(store.put(key, chunkedStream(randomBytes(2 * partSize + MiB), { failWith: boom })), (err) => err === boom);
      await assertGone(key);
    });

    it('aborting through the signal mid-upload rejects put and leaves nothing', async () => {
      const key = `${root}/aborted.bin`;
      const partSize = fx.partSize ?? 5 * MiB;
      const controller = new AbortController();
      const chunk = randomBytes(MiB);
      let produced = 0;
      let stopped = false;
      // An endless producer (a dump that never finishes) aborted once more than a part has been read.
      async function* endless() {
        try {
          for (;;) {
            yield chunk;
            produced += chunk.length;
            if (produced >= partSize + 2 * MiB) controller.abort();
            await tick();
          }
        } finally {
          stopped = true;
        }
      }
      await assert.rejects(store.put(key, Readable.from(endless()), { signal: controller.signal }), (err) => isAbortError(err));
      await assertGone(key);
      await tick();
      assert.ok(stopped, 'the body stream is stopped after an abort');
    });

    it('an already aborted signal rejects put without storing', async () => {
      const key = `${root}/pre-aborted.bin`;
      await assert.rejects(store.put(key, Buffer.from('x'), { signal: AbortSignal.abort() }), (err) => isAbortError(err));
      await assertGone(key);
    });

    it('cleans up', async () => {
      // Collect first, then delete: deleting while paging must not be relied upon. Several passes because
      // s3rver pages in directory order, not key order, and can skip keys across pages (see s3.test.ts).
      for (let pass = 0; pass < 3; pass++) {
        const left = await collect(store.list(`${root}/`));
        if (left.length === 0) break;
        for (const o of left) await store.delete(o.key);
      }
      assert.deepEqual(await collect(store.list(`${root}/`)), []);
    });
  });
}
