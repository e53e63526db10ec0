// Every program Strata spawns for a backup or a restore (pg_dump, pg_restore, psql, zstd, age): an
// argument array, no shell, stderr kept (bounded, secrets stripped) for the error message, and an
// `exited` promise that rejects on a non-zero exit.
//
// The programs stay in the caller's session and run at nice 10 (lib/process/priority.ts). On Linux every
// session is a scheduler autogroup, and a program in a session of its own competes with the whole
// database server as an equal, whatever its nice value (measured: bench item 5). A worker has a session
// of its own (worker/launch.ts), so a terminal's Ctrl-C never reaches its programs. Programs that
// connect get --no-password from their callers: nothing ever stops to prompt.
//
// Environment: the allow-list of child-env.ts and nothing else — there is no option to pass one in.
// A PostgreSQL program gets its one connection (PgConnection: PG* variables and a passfile that is
// removed when the program exits); zstd and age get no PG* variable at all.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { findTool, type SystemTool } from './system-tools.ts';
import { baseChildEnv, type PgConnection } from './child-env.ts';
import { lowerPriority } from './priority.ts';

const STDERR_LIMIT = 32 * 1024;
const KILL_GRACE_MS = 5_000;

export class ToolFailedError extends Error {
  constructor(
    readonly tool: string,
    readonly exitCode: number | null,
    readonly exitSignal: NodeJS.Signals | null,
    /** Secrets stripped. */
    readonly stderr: string,
  ) {
    const how = exitCode !== null ? `exited with code ${exitCode}` : exitSignal ? `was killed by ${exitSignal}` : 'could not be started';
    super(`${tool} ${how}${stderr ? `: ${stderr}` : ''}`);
    this.name = 'ToolFailedError';
  }
}

export interface ToolProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The program's stdin (started with `stdin: 'pipe'`, the default). */
  readonly stdin: Writable;
  readonly stdout: Readable;
  /** Resolves when the program exited with 0; rejects with ToolFailedError otherwise. */
  readonly exited: Promise<void>;
  /** True once stop() was called: an exit by signal after that is ours, not the program's failure. */
  readonly stopped: boolean;
  /** SIGTERM now, SIGKILL if it is still running after a grace period. */
  stop(): void;
  /** What the program wrote to stderr so far, secrets stripped. */
  stderr(): string;
}

export interface StartToolOptions {
  /** The database a PostgreSQL program connects to (refused for any other program). */
  connection?: PgConnection;
  /** 'pipe' (the default), 'ignore', or another program's stdout (its file descriptor is handed over). */
  stdin?: Readable | 'pipe' | 'ignore';
  /** Rewrites stderr before it goes into an error (secrets). */
  redact?: (text: string) => string;
  /** Aborting stops the program. */
  signal?: AbortSignal;
}

/** The program's path, or its bare name (spawning then fails and says so). */
export function toolCommand(tool: SystemTool): string {
  return findTool(tool) ?? tool.command;
}

export function startTool(tool: SystemTool, args: string[], options: StartToolOptions = {}): ToolProcess {
  const name = tool.command;
  const command = toolCommand(tool);
  if (options.connection && !tool.connects) throw new Error(`${name} does not connect to PostgreSQL: it gets no connection`);
  const prepared = options.connection?.prepare() ?? { env: baseChildEnv(), remove: () => {} };
  let child: ChildProcess;
  try {
    child = spawn(command, args, { env: prepared.env as NodeJS.ProcessEnv, stdio: [options.stdin ?? 'pipe', 'pipe', 'pipe'] });
  } catch (err) {
    prepared.remove();
    throw err;
  }
  // After the exit, or when the program could not be started at all.
  child.once('close', prepared.remove);
  child.once('error', prepared.remove);
  lowerPriority(child.pid);
  const redact = options.redact ?? ((t: string) => t);
  let stderr = '';
  let truncated = false;
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    if (stderr.length < STDERR_LIMIT) stderr += text.slice(0, STDERR_LIMIT - stderr.length);
    else truncated = true;
  });
  const stderrText = () => redact(stderr.trim()) + (truncated ? ' […]' : '');
  // A program that exits early closes its stdin: the writer's own error handling reports it.
  child.stdin?.on('error', () => {});

  let stopped = false;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    killTimer.unref();
  };
  options.signal?.addEventListener('abort', stop, { once: true });
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', (err) => reject(new ToolFailedError(name, null, null, `${command}: ${err.message}`)));
    child.once('close', (code, signal) => {
      clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', stop);
      if (code === 0) return resolve();
      reject(new ToolFailedError(name, code, signal, stderrText()));
    });
  });
  exited.catch(() => {});
  return {
    name,
    child,
    get stdin() {
      if (!child.stdin) throw new Error(`${name} was started without a stdin pipe`);
      return child.stdin;
    },
    stdout: child.stdout!,
    exited,
    get stopped() {
      return stopped;
    },
    stop,
    stderr: stderrText,
  };
}

/** Runs a program to completion and returns its stdout (a table of contents, a version: small outputs). */
export async function runTool(tool: SystemTool, args: string[], options: StartToolOptions = {}): Promise<string> {
  const started = startTool(tool, args, { ...options, stdin: options.stdin ?? 'ignore' });
  const chunks: Buffer[] = [];
  started.stdout.on('data', (b: Buffer) => chunks.push(b));
  await started.exited;
  return Buffer.concat(chunks).toString('utf8');
}
