// The programs a restore spawns (pg_restore, psql, pg_dump, age, zstd): argument arrays, no shell,
// the database reached through PG* environment variables (never a URL or password in argv), stderr
// kept bounded and stripped of secrets for the error message.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { pgConnectionEnv } from '../backup/dump.ts';
import { redactSecrets } from '../backup/redact.ts';
import type { Config } from '../env.ts';
import { findTool, TOOLS, type SystemTool } from '../services/system-tools.ts';

const STDERR_LIMIT = 32 * 1024;

export class ToolError extends Error {
  constructor(readonly tool: string, readonly exitCode: number | null, readonly stderr: string) {
    super(`${tool} ${exitCode === null ? 'was killed' : `exited with code ${exitCode}`}${stderr ? `: ${stderr}` : ''}`);
    this.name = 'ToolError';
  }
}

/** Secrets of the configuration (database URLs, passwords, keys) replaced: the project's one redactor. */
export function stripSecrets(text: string, config: Config): string {
  return redactSecrets(text, config);
}

/** The child's environment: ours without inherited PG* settings, plus the connection of url (another database on request). */
export function pgEnvFor(url: string, database?: string): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG')));
  const env: Record<string, string | undefined> = { ...inherited, ...pgConnectionEnv(url), PGAPPNAME: 'strata-restore' };
  if (database) env.PGDATABASE = database;
  return env as NodeJS.ProcessEnv;
}

export const toolPath = (tool: SystemTool): string => findTool(tool) ?? tool.command;
export const PG_RESTORE = () => toolPath(TOOLS.pgRestore);
export const PSQL = () => toolPath(TOOLS.psql);
export const PG_DUMP = () => toolPath(TOOLS.pgDump);

export interface Tool {
  name: string;
  child: ChildProcess;
  stdin: Writable;
  stdout: Readable;
  /** Resolves on exit 0; rejects with ToolError (secrets stripped) otherwise. */
  exited: Promise<void>;
  stderr(): string;
  kill(): void;
}

export interface ToolOptions {
  env?: NodeJS.ProcessEnv;
  /** stdin: a readable with a file descriptor (another tool's stdout), or 'pipe'/'ignore'. */
  stdin?: Readable | 'pipe' | 'ignore';
  redact: (text: string) => string;
  signal?: AbortSignal;
}

export function startTool(name: string, command: string, args: string[], options: ToolOptions): Tool {
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    stdio: [options.stdin ?? 'pipe', 'pipe', 'pipe'],
    // No controlling terminal: nothing can stop to prompt for a password.
    detached: true,
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (t: string) => {
    if (stderr.length < STDERR_LIMIT) stderr += t.slice(0, STDERR_LIMIT - stderr.length);
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const onAbort = () => kill();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', (err) => reject(new ToolError(name, null, `could not be started (${command}): ${err.message}`)));
    child.once('close', (code) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (code === 0) resolve();
      else reject(new ToolError(name, code, options.redact(stderr.trim())));
    });
  });
  exited.catch(() => {});
  // A tool that exits early closes its stdin: writing more must not crash the process.
  child.stdin?.on('error', () => {});
  return {
    name,
    child,
    stdin: child.stdin!,
    stdout: child.stdout!,
    exited,
    stderr: () => options.redact(stderr.trim()),
    kill,
  };
}

/** Runs a tool to completion, its stdout collected (small outputs only). */
export async function runTool(name: string, command: string, args: string[], options: ToolOptions): Promise<string> {
  const tool = startTool(name, command, args, { ...options, stdin: options.stdin ?? 'ignore' });
  const chunks: Buffer[] = [];
  tool.stdout.on('data', (b: Buffer) => chunks.push(b));
  await tool.exited;
  return Buffer.concat(chunks).toString('utf8');
}
