// Retries are a wrapper, not a habit (restic's retry/backend_retry.go): any ObjectStore, retried on
// transient failures with exponential backoff and jitter, never on what store.isPermanent() calls permanent.
//
// What is retried:
// - head, delete: the whole call.
// - get: obtaining the stream. Once a stream is returned, a failure while reading it is the caller's
//   (a restore re-downloads; a Range get can resume from the bytes it already has).
// - list: the listing; after a failure mid-way it starts again and skips the keys already yielded.
// - put: only when the body is a Buffer. A stream body cannot be replayed once bytes were consumed, so a
//   failed streaming put is final here; the backends retry what they can still replay themselves
//   (S3: the SDK retries each part request; B2: each part / small upload is retried with a new upload URL).
import type { Readable } from 'node:stream';
import { backoffDelay, sleep } from './backoff.ts';
import type { ByteRange, ObjectInfo, ObjectStore, PutOptions } from './types.ts';

export interface RetryEvent {
  operation: 'put' | 'get' | 'head' | 'list' | 'delete';
  key: string;
  /** The attempt that failed, from 1. */
  attempt: number;
  delayMs: number;
  error: unknown;
}

export interface RetryOptions {
  /** Total attempts, including the first (1 = no retries). */
  attempts: number;
  /** Delay before the first retry; doubles per attempt, with jitter. */
  baseDelayMs: number;
  /** Upper bound of one delay (default 30 s). */
  maxDelayMs?: number;
  onRetry?: (event: RetryEvent) => void;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 4, baseDelayMs: 500 };

export function withRetries(store: ObjectStore, options: RetryOptions): ObjectStore {
  const attempts = Math.max(1, Math.floor(options.attempts));

  async function retrying<T>(operation: RetryEvent['operation'], key: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (attempt >= attempts || store.isPermanent(error) || signal?.aborted) throw error;
        const delayMs = backoffDelay(attempt, options.baseDelayMs, options.maxDelayMs);
        options.onRetry?.({ operation, key, attempt, delayMs, error });
        await sleep(delayMs, signal);
      }
    }
  }

  async function* list(prefix: string): AsyncIterable<ObjectInfo> {
    const yielded = new Set<string>();
    for (let attempt = 1; ; attempt++) {
      try {
        for await (const info of store.list(prefix)) {
          if (yielded.has(info.key)) continue;
          yielded.add(info.key);
          yield info;
        }
        return;
      } catch (error) {
        if (attempt >= attempts || store.isPermanent(error)) throw error;
        const delayMs = backoffDelay(attempt, options.baseDelayMs, options.maxDelayMs);
        options.onRetry?.({ operation: 'list', key: prefix, attempt, delayMs, error });
        await sleep(delayMs);
      }
    }
  }

  return {
    tier: store.tier,
    bucket: store.bucket,
    location: (key) => store.location(key),
    put(key: string, body: Readable | Buffer, putOptions?: PutOptions) {
      if (!Buffer.isBuffer(body)) return store.put(key, body, putOptions);
      return retrying('put', key, () => store.put(key, body, putOptions), putOptions?.signal);
    },
    get: (key: string, range?: ByteRange) => retrying('get', key, () => store.get(key, range)),
    head: (key: string) => retrying('head', key, () => store.head(key)),
    list,
    delete: (key: string) => retrying('delete', key, () => store.delete(key)),
    isNotFound: (err) => store.isNotFound(err),
    isPermanent: (err) => store.isPermanent(err),
  } satisfies ObjectStore;
}
