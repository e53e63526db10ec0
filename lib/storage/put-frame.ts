// The frame every backend's streaming put runs in (s3.ts, b2.ts): the body read in parts of a fixed
// size (part-reader.ts), progress reported, an abort that also stops a read waiting for the producer
// (requests in flight get the signal themselves), the backend's own cleanup on failure, and a failure
// after an abort reported as the abort.
import type { Readable } from 'node:stream';
import { abortErrorFrom, isAbortError } from './errors.ts';
import { PartReader } from './part-reader.ts';
import { progressReporter, type ProgressReporter } from './progress.ts';
import type { PutOptions } from './types.ts';

export async function framedPut<T>(
  body: Readable | Buffer,
  partSize: number,
  putOptions: PutOptions,
  upload: (reader: PartReader, progress: ProgressReporter) => Promise<T>,
  /** Takes back what a failed upload may have left (an unfinished multipart upload, a visible object). */
  cleanup: (err: unknown) => Promise<void>,
): Promise<T> {
  const { signal } = putOptions;
  if (signal?.aborted) throw abortErrorFrom(signal);
  const progress = progressReporter(putOptions.onProgress);
  const reader = new PartReader(body, partSize);
  const onAbort = () => {
    if (!Buffer.isBuffer(body)) body.destroy(abortErrorFrom(signal!));
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await upload(reader, progress);
  } catch (err) {
    await cleanup(err);
    if (signal?.aborted && !isAbortError(err)) throw abortErrorFrom(signal);
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    reader.close();
  }
}
