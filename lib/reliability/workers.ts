// Worker handling for the fault cases: victims are real worker processes (worker/test-support.ts
// spawnWorker) killed with SIGKILL; the rescuer is the same runWorker loop in this process, with
// its log captured so the secrets scan can read it.
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import type { Config } from '../env.ts';
import { runWorker } from '../../worker/worker.ts';
import { spawnWorker, type WorkerProcess } from '../../worker/test-support.ts';
import { waitUntil } from './harness.ts';

/** Settings that make a killed worker's job come back fast: 3 s leases, no retry backoff. */
export const FAST_WORKER_ENV = {
  STRATA_LEASE_SECONDS: '3',
  STRATA_RETRY_BASE_SECONDS: '0',
  STRATA_WORKER_POLL_MS: '100',
  STRATA_DRILL_SAMPLE: '0',
};

export interface CapturedLog {
  log: Logger;
  lines: string[];
}

export function captureLog(): CapturedLog {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { log: pino({ base: { service: 'strata-worker' } }, stream), lines };
}

/** Every log line of killed workers and rescuers so far (for the secrets scan). */
export const workerLogLines: string[] = [];

export function startVictim(env: Record<string, string>, id: string): WorkerProcess {
  const w = spawnWorker({ ...env, ...FAST_WORKER_ENV, STRATA_WORKER_ID: id });
  return w;
}

export async function killVictim(w: WorkerProcess): Promise<void> {
  if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await w.exited;
  for (const l of w.logs) workerLogLines.push(JSON.stringify(l));
}

/** Runs a worker in this process until `settled` says the jobs reached their final state. */
export async function rescue(config: Config, id: string, settled: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const captured = captureLog();
  const stop = new AbortController();
  const done = runWorker(config, { signal: stop.signal, id, log: captured.log, maintenance: false });
  try {
    await waitUntil(`worker ${id} to settle the jobs`, settled, timeoutMs, 100);
  } finally {
    stop.abort();
    await done;
    workerLogLines.push(...captured.lines);
  }
}
