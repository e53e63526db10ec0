// A local S3 server (s3rver 3.7.1) for tests, the demo and `strata services`, run as a child process
// so its event loop (and its file I/O) never competes with the code under test.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { processEnv } from '../env.ts';

export interface S3ServerOptions {
  /** Where s3rver stores buckets and objects. */
  dir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Buckets created before the server answers. */
  buckets: string[];
}

export interface S3Server {
  /** `http://127.0.0.1:<port>` — use with forcePathStyle and access key `S3RVER`. */
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

const RUNNER = fileURLToPath(new URL('./s3rver-main.mjs', import.meta.url));
const READY_TIMEOUT_MS = 15_000;

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

// A child that outlives us would keep its port and files; the runner also exits when its stdin closes.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

export async function startS3Server(options: S3ServerOptions): Promise<S3Server> {
  await mkdir(options.dir, { recursive: true });
  installExitHook();
  const args = JSON.stringify({ dir: options.dir, port: options.port ?? 0, buckets: options.buckets });
  const child = spawn(process.execPath, [RUNNER, args], {
    // Without the legacy provider s3rver answers 500 to paginated ListObjectsV2 (continuation tokens use a removed cipher).
    env: { ...processEnv(), NODE_OPTIONS: '--openssl-legacy-provider' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.delete(child);
      resolve();
    });
  });

  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });

  let port: number;
  try {
    port = await waitForReady(child);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`s3rver did not start: ${(err as Error).message}${stderr ? `\n${stderr}` : ''}`);
  }

  let stopping: Promise<void> | undefined;
  // A server that dies under a test must say why, not leave only ECONNREFUSED behind.
  child.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`s3rver on port ${port} exited unexpectedly (code ${code}, signal ${signal})${stderr ? `:\n${stderr}` : ''}\n`);
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }
        child.stdin?.destroy();
      })();
      return stopping;
    },
  };
}

function waitForReady(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => finish(new Error(`not ready after ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    const onData = (chunk: string) => {
      buffered += chunk;
      const m = /S3RVER_READY (\d+)\n/.exec(buffered);
      if (m) finish(null, Number(m[1]));
    };
    const onExit = (code: number | null, signal: string | null) =>
      finish(new Error(`exited early (code ${code}, signal ${signal})`));
    const finish = (err: Error | null, port?: number) => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      // Keep draining stdout so the child can never block on a full pipe.
      child.stdout!.resume();
      if (err) reject(err);
      else resolve(port!);
    };
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}
