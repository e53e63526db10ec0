// Password checks (bcrypt, cost 12: ~0.25 s of CPU each) off the event loop and capped.
//
// bcryptjs is plain JavaScript: on the main thread even its async form runs in 100 ms slices, and
// a few concurrent checks make every page and API call wait behind them. Each check runs in a
// worker thread instead, at most STRATA_SIGNIN_CONCURRENCY at once per process; more wait in line
// for a short while, then are refused (SignInBusyError) rather than queueing without bound.
import { Worker } from 'node:worker_threads';
import bcrypt from 'bcryptjs';

export class SignInBusyError extends Error {
  constructor() {
    super('too many sign-ins are being checked right now; try again in a few seconds');
    this.name = 'SignInBusyError';
  }
}

/** How long a sign-in waits for a free slot before it is refused. */
export const SLOT_WAIT_MS = 5_000;

// The worker's code: require() resolves bcryptjs from the working directory (the app's root).
// On Linux the thread also lowers its own scheduling priority (nice 19, per thread): when the CPU is
// short, serving pages and API calls comes before checking passwords.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const bcrypt = require('bcryptjs');
try {
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  if (tid > 0) require('node:os').setPriority(tid, 19);
} catch {}
parentPort.on('message', ({ id, password, hash }) => {
  let ok = false;
  try { ok = bcrypt.compareSync(password, hash); } catch {}
  parentPort.postMessage({ id, ok });
});`;

interface Slots {
  busy: number;
  waiting: (() => void)[];
  idle: Worker[];
  workerBroken: boolean;
}
// One state per process, even when the bundler loads this module more than once.
const KEY = Symbol.for('strata.signInSlots');
const slots = ((globalThis as { [KEY]?: Slots })[KEY] ??= { busy: 0, waiting: [], idle: [], workerBroken: false });

/** Runs fn with one of `limit` slots, waiting up to waitMs for one; SignInBusyError after that. */
export async function withSignInSlot<T>(limit: number, fn: () => Promise<T>, waitMs = SLOT_WAIT_MS): Promise<T> {
  if (slots.busy >= limit) {
    await new Promise<void>((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        slots.waiting.splice(slots.waiting.indexOf(wake), 1);
        reject(new SignInBusyError());
      }, waitMs);
      slots.waiting.push(wake);
    });
  } else {
    slots.busy++;
  }
  try {
    return await fn();
  } finally {
    // Hand the slot straight to the next in line (busy stays the same), or free it.
    const next = slots.waiting.shift();
    if (next) next();
    else slots.busy--;
  }
}

let nextId = 0;
function compareInWorker(password: string, hash: string): Promise<boolean> {
  const worker = slots.idle.pop() ?? new Worker(WORKER_SOURCE, { eval: true });
  worker.unref();
  const id = ++nextId;
  return new Promise<boolean>((resolve, reject) => {
    const done = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
    };
    const onMessage = (m: { id: number; ok: boolean }) => {
      if (m.id !== id) return;
      done();
      slots.idle.push(worker);
      resolve(m.ok);
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.postMessage({ id, password, hash });
  });
}

/** bcrypt.compare in a worker thread (on the main thread only if a worker cannot start). */
export async function comparePassword(password: string, hash: string): Promise<boolean> {
  if (!slots.workerBroken) {
    try {
      return await compareInWorker(password, hash);
    } catch {
      slots.workerBroken = true;
    }
  }
  return bcrypt.compare(password, hash);
}
