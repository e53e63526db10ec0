// Shared by the b2server tests: a server on a free loopback port in a fresh temp dir.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startB2Server, type B2Server } from './index.ts';

export const KEY_ID = 'strata-test-key-id';
export const KEY = 'strata-test-key-secret';
export const BUCKET = 'strata-test-bucket';

export interface TestServer {
  server: B2Server;
  dir: string;
  /** Stops the server and removes its directory. */
  close(): Promise<void>;
}

export async function startTestServer(): Promise<TestServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'strata-b2-'));
  const server = await startB2Server({ dir, port: 0, keyId: KEY_ID, key: KEY, buckets: [BUCKET] });
  return {
    server,
    dir,
    close: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function sha1(data: Buffer | string): string {
  return createHash('sha1').update(data).digest('hex');
}

/** Bytes that differ at every offset, so a misplaced range or part shows. */
export function patterned(size: number, seed: number): Buffer {
  const buf = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[i] = x & 0xff;
  }
  return buf;
}

export function basicAuth(keyId = KEY_ID, key = KEY): string {
  return `Basic ${Buffer.from(`${keyId}:${key}`).toString('base64')}`;
}
