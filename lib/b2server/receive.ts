// Streams an upload body to a temp file while hashing it, so no upload is ever held in memory.
// The caller renames the temp file into place once the SHA1 has been checked.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { badRequest } from './errors.ts';
import { header } from './http.ts';
import { removeQuietly, type Store } from './store.ts';

/** Largest single upload (b2_upload_file) and largest part, as on B2. */
export const MAX_UPLOAD_BYTES = 5 * 1000 * 1000 * 1000;
const SHA1_HEX = /^[0-9a-fA-F]{40}$/;

export interface Received {
  tmp: string;
  contentLength: number;
  sha1: string;
  /** False for `do_not_verify`: the client gave no checksum. */
  verified: boolean;
}

/** Hashes and counts what passes through; in `hex_digits_at_end` mode it keeps back the last 40 bytes. */
class HashingCounter extends Transform {
  readonly hash = createHash('sha1');
  bytes = 0;
  private held = Buffer.alloc(0);

  constructor(private readonly holdBack: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let data = chunk;
    if (this.holdBack > 0) {
      const all = Buffer.concat([this.held, chunk]);
      const keep = Math.min(this.holdBack, all.length);
      this.held = Buffer.from(all.subarray(all.length - keep));
      data = all.subarray(0, all.length - keep);
    }
    this.bytes += data.length;
    this.hash.update(data);
    done(null, data);
  }

  trailer(): string {
    return this.held.toString('latin1');
  }
}

export function contentLengthOf(req: IncomingMessage): number {
  const value = header(req, 'content-length');
  if (value === undefined) throw badRequest('Content-Length header is required');
  if (!/^\d+$/.test(value)) throw badRequest('Content-Length is not a number');
  const n = Number(value);
  if (n > MAX_UPLOAD_BYTES) throw badRequest(`Content-Length ${n} is larger than the maximum ${MAX_UPLOAD_BYTES}`);
  return n;
}

/** Validates X-Bz-Content-Sha1 before any byte is read. */
export function sha1ModeOf(req: IncomingMessage): string {
  const value = header(req, 'x-bz-content-sha1');
  if (value === undefined) throw badRequest('X-Bz-Content-Sha1 header is required');
  if (value === 'do_not_verify' || value === 'hex_digits_at_end' || SHA1_HEX.test(value)) return value;
  if (value.startsWith('unverified:') && SHA1_HEX.test(value.slice(11))) return value;
  throw badRequest(`X-Bz-Content-Sha1 is not a SHA1: ${JSON.stringify(value)}`);
}

export async function receiveBody(req: IncomingMessage, store: Store, contentLength: number, sha1Mode: string): Promise<Received> {
  const atEnd = sha1Mode === 'hex_digits_at_end';
  if (atEnd && contentLength < 40) throw badRequest('hex_digits_at_end needs at least 40 bytes of body');
  const counter = new HashingCounter(atEnd ? 40 : 0);
  const tmp = store.tmpPath();
  try {
    await pipeline(req, counter, createWriteStream(tmp));
  } catch (err) {
    await removeQuietly(tmp);
    throw err;
  }
  const sha1 = counter.hash.digest('hex');
  const received = counter.bytes + (atEnd ? 40 : 0);
  let expected: string | null = null;
  if (atEnd) expected = counter.trailer();
  else if (SHA1_HEX.test(sha1Mode)) expected = sha1Mode;
  else if (sha1Mode.startsWith('unverified:')) expected = sha1Mode.slice(11);
  let problem: string | null = null;
  if (received !== contentLength) problem = `received ${received} bytes, Content-Length says ${contentLength}`;
  else if (expected !== null && expected.toLowerCase() !== sha1) problem = 'Sha1 did not match data received';
  if (problem) {
    await removeQuietly(tmp);
    throw badRequest(problem);
  }
  return { tmp, contentLength: counter.bytes, sha1, verified: expected !== null };
}
