// Strata's Backblaze B2 emulator: the B2 native API (v1 and v2) over node:http, with data on disk.
// Used by `strata services`, the tests and the demo. See control.ts for the test hooks.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerState } from './context.ts';
import { Faults } from './faults.ts';
import { checkBucketName } from './handlers/account.ts';
import { route } from './router.ts';
import { Store } from './store.ts';
import { Tokens } from './tokens.ts';

export interface B2ServerOptions {
  /** Where files and metadata live; a restarted server on the same dir sees earlier files. */
  dir: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  keyId: string;
  key: string;
  /** Created (allPrivate) at start when missing; ids stay the same across restarts. */
  buckets?: string[];
}

export interface B2Server {
  /** Base URL, e.g. http://127.0.0.1:PORT — clients authorize at `${url}/b2api/v2/b2_authorize_account`. */
  url: string;
  port: number;
  /** Every bucket's id by name. */
  bucketIds: Record<string, string>;
  /** Every token issued so far answers 401 expired_auth_token from now on. */
  expireTokens(): void;
  /** The next n b2_upload_file / b2_upload_part calls answer 503 service_unavailable. */
  failNextUploads(n: number): void;
  /** Every B2 call waits this long before it is handled (0 = off). */
  setLatencyMs(ms: number): void;
  stop(): Promise<void>;
}

export async function startB2Server(opts: B2ServerOptions): Promise<B2Server> {
  if (!opts.keyId || !opts.key) throw new Error('startB2Server: keyId and key are required');
  const store = await Store.open(opts.dir, opts.keyId);
  for (const name of opts.buckets ?? []) {
    checkBucketName(name);
    if (!store.bucketByName(name)) store.createBucket(name, 'allPrivate');
  }
  await store.persist();

  const state: ServerState = { store, tokens: new Tokens(), faults: new Faults(), keyId: opts.keyId, key: opts.key };
  const host = opts.host ?? '127.0.0.1';
  let url = '';
  const server = createServer((req, res) => {
    void route(state, req, res, url);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url,
    port,
    bucketIds: Object.fromEntries(store.listBuckets().map((b) => [b.bucketName, b.bucketId])),
    expireTokens: () => state.tokens.expireAll(),
    failNextUploads: (n) => state.faults.failNextUploads(n),
    setLatencyMs: (ms) => state.faults.setLatencyMs(ms),
    stop: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await store.flushed();
    },
  };
}
