// The one storage contract. Each backend's factory (s3.ts, b2.ts) returns `store satisfies ObjectStore`;
// nothing outside lib/storage/registry.ts branches on the storage tier.
import type { Readable } from 'node:stream';
import type { StorageTier } from '../domain.ts';

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified?: Date;
}

export interface PutOptions {
  contentType?: string;
  /** Called with the total bytes sent so far, at most a few times a second. */
  onProgress?: (bytesSent: number) => void;
  /** Aborting cancels the upload; the backend removes what it had stored (multipart abort / cancel large file). */
  signal?: AbortSignal;
}

export interface ByteRange {
  /** Inclusive start offset. */
  start: number;
  /** Inclusive end offset; omitted means to the end. */
  end?: number;
}

export interface ObjectStore {
  readonly tier: StorageTier;
  readonly bucket: string;
  /** `s3://bucket/key` or `b2://bucket/key` — the `backup_location` form. */
  location(key: string): string;
  /** Streams a body of unknown length. Resolves only when the object is completely stored. */
  put(key: string, body: Readable | Buffer, options?: PutOptions): Promise<{ size: number }>;
  /** The object (or a byte range of it) as a stream. Rejects with a not-found error when absent. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** Size of the object, or null when absent. */
  head(key: string): Promise<ObjectInfo | null>;
  /** Every object whose key starts with prefix (all pages). */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Removes the object completely (every version); absent is success. */
  delete(key: string): Promise<void>;
  isNotFound(err: unknown): boolean;
  /** An error that retrying cannot fix (bad credentials, bad request, not found). */
  isPermanent(err: unknown): boolean;
}

/** Parses `s3://bucket/key` or `b2://bucket/key`. */
export function parseLocation(location: string): { scheme: 's3' | 'b2'; bucket: string; key: string } {
  const m = /^(s3|b2):\/\/([^/]+)\/(.+)$/.exec(location);
  if (!m) throw new Error(`not a backup location: ${JSON.stringify(location)}`);
  return { scheme: m[1] as 's3' | 'b2', bucket: m[2]!, key: m[3]! };
}
