// Worker tests: real worker processes (worker-main.ts, bundled and started as operators run it:
// worker/launch.ts) against the test stack, and a look inside the B2 server through its own API
// (versions, unfinished large files) and test hooks.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Config } from '../lib/env.ts';
import { workerNodeArgs } from './launch.ts';

export interface WorkerProcess {
  child: ChildProcess;
  /** Parsed JSON log lines so far. */
  logs: Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnWorker(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, workerNodeArgs(), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let buf = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      if (code) process.stderr.write(`worker exited ${code}: ${stderr.slice(-2000)}\n`);
      resolve({ code, signal });
    }),
  );
  return { child, logs, exited };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | false | null | undefined>, timeoutMs: number, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function basic(config: Config): string {
  return `Basic ${Buffer.from(`${config.B2_APPLICATION_KEY_ID}:${config.B2_APPLICATION_KEY}`).toString('base64')}`;
}

async function b2Call<T>(config: Config, call: string, body: Record<string, unknown>): Promise<T> {
  const auth = (await (await fetch(`${config.B2_AUTH_URL}/b2api/v2/b2_authorize_account`, { headers: { authorization: basic(config) } })).json()) as {
    apiUrl: string;
    authorizationToken: string;
  };
  const res = await fetch(`${auth.apiUrl}/b2api/v2/${call}`, {
    method: 'POST',
    headers: { authorization: auth.authorizationToken, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${call}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Every stored version (uploads, hide markers, unfinished large files) under prefix. */
export async function b2Versions(config: Config, prefix: string): Promise<{ fileName: string; action: string }[]> {
  const r = await b2Call<{ files: { fileName: string; action: string }[] }>(config, 'b2_list_file_versions', { bucketId: config.B2_BUCKET_ID, prefix, maxFileCount: 10000 });
  return r.files;
}

export async function b2Unfinished(config: Config): Promise<{ fileName: string }[]> {
  const r = await b2Call<{ files: { fileName: string }[] }>(config, 'b2_list_unfinished_large_files', { bucketId: config.B2_BUCKET_ID, maxFileCount: 100 });
  return r.files;
}

/** Test hook of lib/b2server: every B2 call waits this long first. */
export async function setB2Latency(config: Config, ms: number): Promise<void> {
  const res = await fetch(`${config.B2_AUTH_URL}/__strata/latency`, {
    method: 'POST',
    headers: { authorization: basic(config), 'content-type': 'application/json' },
    body: JSON.stringify({ ms }),
  });
  if (!res.ok) throw new Error(`latency hook: ${res.status}`);
}
