// One spawned system program of the backup pipeline (pg_dump, zstd, age): argument array, no shell,
// stderr kept (bounded) for the error message, and an `exited` promise that rejects on a non-zero exit.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

const STDERR_LIMIT = 16 * 1024;
const KILL_GRACE_MS = 5_000;

export class ToolFailedError extends Error {
  constructor(
    readonly tool: string,
    readonly exitCode: number | null,
    readonly exitSignal: NodeJS.Signals | null,
    readonly stderr: string,
  ) {
    const how = exitCode !== null ? `exited with code ${exitCode}` : `was killed by ${exitSignal}`;
    super(`${tool} ${how}${stderr ? `: ${stderr}` : ''}`);
    this.name = 'ToolFailedError';
  }
}

export interface ToolProcess {
  readonly name: string;
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves when the program exited with 0; rejects with ToolFailedError otherwise. */
  readonly exited: Promise<void>;
  /** True once stop() was called: an exit by signal after that is ours, not the tool's failure. */
  readonly stopped: boolean;
  /** SIGTERM now, SIGKILL if it is still running after a grace period. */
  stop(): void;
}

export interface StartToolOptions {
  env?: Record<string, string | undefined>;
  /** Rewrites stderr before it goes into an error (secrets). */
  redact?: (text: string) => string;
}

export function startTool(name: string, command: string, args: string[], options: StartToolOptions = {}): ToolProcess {
  // Not detached: the programs stay in the worker's session. On Linux every session is a scheduler
  // autogroup, and a program in a session of its own competes with the whole database server as an
  // equal, whatever its nice value (measured: bench item 5). pg_dump gets --no-password instead of
  // losing its terminal, so it never stops to prompt.
  const child = spawn(command, args, { env: (options.env ?? process.env) as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let truncated = false;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    if (stderr.length < STDERR_LIMIT) stderr += text.slice(0, STDERR_LIMIT - stderr.length);
    else truncated = true;
  });
  let stopped = false;
  let killTimer: NodeJS.Timeout | undefined;
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', (err) => reject(new Error(`${name} could not be started (${command}): ${err.message}`)));
    child.once('close', (code, signal) => {
      clearTimeout(killTimer);
      if (code === 0) return resolve();
      const text = (options.redact ?? ((t: string) => t))(stderr.trim()) + (truncated ? ' […]' : '');
      reject(new ToolFailedError(name, code, signal, text));
    });
  });
  exited.catch(() => {});
  return {
    name,
    child,
    exited,
    get stopped() {
      return stopped;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    },
  };
}

/** Runs a program to completion and returns its stdout (small outputs: `--version`). */
export async function runTool(name: string, command: string, args: string[], options: StartToolOptions = {}): Promise<string> {
  const tool = startTool(name, command, args, options);
  tool.child.stdin.end();
  let out = '';
  tool.child.stdout.setEncoding('utf8');
  tool.child.stdout.on('data', (text: string) => {
    if (out.length < 64 * 1024) out += text;
  });
  await tool.exited;
  return out;
}
