// What every `strata` command shares: flag parsing, exit codes, `--json` output, the actor name.
import os from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig, processEnv, type BaseConfig, type Config, type ConfigFor, type Need } from '../lib/env.ts';
import { maskSecrets } from '../lib/process/redact.ts';
import { SCHEDULE_TYPES, type ScheduleType } from '../lib/domain.ts';
import { describeError, operatorDetail, rawDatabaseFailure } from '../lib/db/errors.ts';

/** docs/design.md exit codes. */
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

/**
 * Anything else thrown, as a CliError: a database failure by its code and SQLSTATE (the query and
 * its parameter values only with STRATA_DEBUG=1, on stderr, secrets masked), other errors by their
 * message with any Drizzle query text scrubbed.
 */
export function cliErrorOf(err: unknown): CliError {
  const db = rawDatabaseFailure(err);
  if (db) {
    const env = processEnv();
    if (env.STRATA_DEBUG === '1') {
      const secrets = { DATABASE_URL: env.DATABASE_URL ?? '', sourceUrl: env.BACKUP_SOURCE_URL ?? env.DATABASE_URL ?? '' };
      process.stderr.write(`strata: debug: ${maskSecrets(operatorDetail(err), secrets)}\n`);
    }
    return new CliError(db.message, EXIT.error, db.code);
  }
  return new CliError(describeError(err));
}

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

/** `--incremental daily,weekly` → those origins; `none` → no origin (policy set, cost simulate). */
export function originList(text: string, flag: string): ScheduleType[] {
  if (text.trim() === 'none') return [];
  const parts = text.split(',').map((s) => s.trim());
  const bad = parts.find((p) => !(SCHEDULE_TYPES as readonly string[]).includes(p));
  if (bad !== undefined) throw usage(`--${flag}: a comma-separated list of ${SCHEDULE_TYPES.join(', ')}, or none (got ${JSON.stringify(bad)})`);
  return [...new Set(parts as ScheduleType[])];
}

/** Queueing a job needs the database only; `--wait` may run the job in this process (no worker up) and needs what a worker needs. */
export function waitConfig(wait: boolean): { DATABASE_URL: string; worker: Config | null } {
  if (!wait) return { DATABASE_URL: config(['database']).DATABASE_URL, worker: null };
  const worker = config();
  return { DATABASE_URL: worker.DATABASE_URL, worker };
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

/**
 * The configuration a command uses: `config(['database'])` demands DATABASE_URL only; without
 * needs, everything the worker needs. Every missing or invalid variable in one message, exit 2.
 */
export function config(): Config;
export function config<N extends Need>(needs: readonly N[]): ConfigFor<N>;
export function config(needs?: readonly Need[]): BaseConfig {
  try {
    return needs === undefined ? loadConfig() : loadConfig(needs);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.usage, 'bad_configuration');
    throw err;
  }
}
