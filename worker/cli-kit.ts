// What every `strata` command shares: flag parsing, exit codes, `--json` output, the actor name.
import os from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../lib/env.ts';

/** CONTRACTS.md exit codes. */
export const EXIT = { ok: 0, error: 1, usage: 2, jobFailed: 3, conflict: 4 } as const;

/** An error the CLI reports as one line and an exit code, never a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.error,
    readonly code = 'error',
  ) {
    super(message);
  }
}

export const usage = (message: string) => new CliError(message, EXIT.usage, 'bad_request');

export interface Output {
  json: boolean;
  /** Prints the command's result: the JSON object with --json, else the human text. */
  result(value: object, human: string | (() => string)): void;
  /** Progress and notes for people: stderr, silent with --json. */
  info(message: string): void;
}

export function output(json: boolean): Output {
  return {
    json,
    result(value, human) {
      if (json) process.stdout.write(`${JSON.stringify(value)}\n`);
      else process.stdout.write(`${typeof human === 'function' ? human() : human}\n`);
    },
    info(message) {
      if (!json) process.stderr.write(`${message}\n`);
    },
  };
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses flags strictly: unknown flags and missing values are usage errors (exit 2). */
export function flags<O extends Options>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options: { json: { type: 'boolean' }, ...options }, strict: true, allowPositionals: false })
      .values as { json?: boolean } & { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : string };
  } catch (err) {
    throw usage((err as Error).message);
  }
}

export function required<T>(value: T | undefined, flag: string): T {
  if (value === undefined || value === '') throw usage(`missing --${flag}`);
  return value;
}

/** Validates a flag with a zod schema; a failure is a usage error naming the flag. */
export function valid<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } } }, value: unknown, flag: string): T {
  const res = schema.safeParse(value);
  if (!res.success) throw usage(`--${flag}: ${res.error.issues[0]?.message ?? 'invalid'}`);
  return res.data;
}

/** `cli:<os-user>@<host>`: how the audit log names a shell operator. */
export function cliActor(): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    /* no passwd entry (containers) */
  }
  return `cli:${user}@${os.hostname()}`;
}

export function config(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.usage, 'bad_configuration');
    throw err;
  }
}
