import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { backoffDelay } from './backoff.ts';
import { collect } from './conformance.ts';
import { ObjectNotFoundError } from './errors.ts';
import { withRetries, type RetryEvent } from './retry.ts';
import type { ObjectInfo, ObjectStore } from './types.ts';

const transient = () => Object.assign(new Error('503 busy'), { transient: true });

/** A store whose calls fail `failures` times with a transient error first. */
function flakyStore(failures: number, listing: ObjectInfo[] = []) {
  const calls: Record<string, number> = {};
  let left = failures;
  const maybeFail = (op: string) => {
    calls[op] = (calls[op] ?? 0) + 1;
    if (left > 0) {
      left--;
      throw transient();
    }
  };
  const store: ObjectStore = {
    tier: 's3_standard',
    bucket: 'b',
    location: (k) => `s3://b/${k}`,
    async put(_key, body) {
      maybeFail('put');
      return { size: Buffer.isBuffer(body) ? body.length : 0 };
    },
    async get(key) {
      maybeFail('get');
      if (key === 'absent') throw new ObjectNotFoundError(`s3://b/${key}`);
      return Readable.from([Buffer.from('x')]);
    },
    async head() {
      maybeFail('head');
      return null;
    },
    async *list() {
      calls.list = (calls.list ?? 0) + 1;
      for (const [i, info] of listing.entries()) {
        if (i === 2 && left > 0) {
          left--;
          throw transient();
        }
        yield info;
      }
    },
    async delete() {
      maybeFail('delete');
    },
    isNotFound: (err) => err instanceof ObjectNotFoundError,
    isPermanent: (err) => err instanceof ObjectNotFoundError || !(err as { transient?: boolean }).transient,
  };
  return { store, calls };
}

describe('withRetries', () => {
  it('retries transient failures of head/get/delete and reports each retry', async () => {
    const events: RetryEvent[] = [];
    const { store, calls } = flakyStore(2);
    const retrying = withRetries(store, { attempts: 3, baseDelayMs: 1, onRetry: (e) => events.push(e) });
    assert.equal(await retrying.head('k'), null);
    assert.equal(calls.head, 3);
    assert.deepEqual(events.map((e) => [e.operation, e.attempt]), [['head', 1], ['head', 2]]);
    await retrying.delete('k');
    assert.ok(await retrying.get('k'));
  });

  it('gives up after the attempts', async () => {
    const { store, calls } = flakyStore(5);
    await assert.rejects(withRetries(store, { attempts: 3, baseDelayMs: 1 }).head('k'), /503/);
    assert.equal(calls.head, 3);
  });

  it('stops at once on a permanent error', async () => {
    const { store, calls } = flakyStore(0);
    await assert.rejects(withRetries(store, { attempts: 5, baseDelayMs: 1 }).get('absent'), (err) => store.isNotFound(err));
    assert.equal(calls.get, 1);
  });

  it('retries a put of a Buffer, never a put of a stream', async () => {
    const a = flakyStore(1);
    assert.deepEqual(await withRetries(a.store, { attempts: 3, baseDelayMs: 1 }).put('k', Buffer.from('abc')), { size: 3 });
    assert.equal(a.calls.put, 2);
    const b = flakyStore(1);
    await assert.rejects(withRetries(b.store, { attempts: 3, baseDelayMs: 1 }).put('k', Readable.from([Buffer.from('abc')])), /503/);
    assert.equal(b.calls.put, 1);
  });

  it('does not retry a put whose signal fired', async () => {
    const { store, calls } = flakyStore(3);
    const controller = new AbortController();
    const retrying = withRetries(store, { attempts: 5, baseDelayMs: 50, onRetry: () => controller.abort() });
    await assert.rejects(retrying.put('k', Buffer.from('x'), { signal: controller.signal }), (err: Error) => err.name === 'AbortError');
    assert.equal(calls.put, 1);
  });

  it('restarts a failed listing without repeating keys', async () => {
    const listing = ['a', 'b', 'c', 'd'].map((key) => ({ key, size: 1 }));
    const { store, calls } = flakyStore(1, listing);
    const got = await collect(withRetries(store, { attempts: 3, baseDelayMs: 1 }).list(''));
    assert.deepEqual(got.map((o) => o.key), ['a', 'b', 'c', 'd']);
    assert.equal(calls.list, 2);
  });

  it('backs off exponentially with jitter, capped', () => {
    for (let attempt = 1; attempt <= 5; attempt++) {
      const ceiling = 100 * 2 ** (attempt - 1);
      const d = backoffDelay(attempt, 100);
      assert.ok(d >= ceiling / 2 && d <= ceiling, `attempt ${attempt}: ${d}`);
    }
    assert.ok(backoffDelay(30, 100, 5000) <= 5000);
  });
});
