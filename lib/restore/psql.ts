// Feeding psql one script made of SQL text and the streamed output of other programs (pg_restore -f -).
// `apply`: BEGIN … COMMIT with ON_ERROR_STOP; the COMMIT is written only after every producer exited
// with 0, so a pg_restore dying half-way can never commit half a tenant (psql is killed, the server
// rolls back). `probe`: BEGIN … ROLLBACK with ON_ERROR_ROLLBACK, every failing statement reported.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../env.ts';
import { ReplayFailedError } from './errors.ts';
import { PgConnection } from '../process/child-env.ts';
import { redactSecrets } from '../process/redact.ts';
import { startTool, type ToolProcess } from '../process/tool-process.ts';
import { TOOLS } from '../process/system-tools.ts';

/** SQL text, or a program whose stdout is SQL (started when the script reaches it). */
export type ScriptPart = string | (() => ToolProcess);

export interface PsqlScriptOptions {
  config: Config;
  /** Connection URL (its database unless `database` is given): the replay role's (replay-role.ts). */
  url: string;
  database?: string;
  /** The job's private temp dir: psql's passfile lives there while it runs. */
  dir: string;
  parts: ScriptPart[];
  signal?: AbortSignal;
}

/** psql's `psql:<stdin>:12: ERROR:  …` lines, without the prefix. */
export function psqlErrors(stderr: string): string[] {
  const out: string[] = [];
  for (const line of stderr.split('\n')) {
    const m = /(?:^|:\s)(ERROR|FATAL):\s+(.*)$/.exec(line);
    if (m) out.push(m[2]!.trim());
  }
  return out;
}

async function runScript(options: PsqlScriptOptions, mode: 'apply' | 'probe'): Promise<{ stderr: string }> {
  const { config, signal } = options;
  const redact = (t: string) => redactSecrets(t, config);
  const args = ['-X', '-q', '--no-password', '-f', '-', ...(mode === 'apply' ? ['-v', 'ON_ERROR_STOP=1'] : ['-v', 'ON_ERROR_ROLLBACK=on'])];
  const psql = startTool(TOOLS.psql, args, {
    connection: PgConnection.fromUrl(options.url, { appName: 'strata-restore', dir: options.dir, database: options.database }),
    redact,
    signal,
  });
  psql.stdout.resume();
  const producers: ToolProcess[] = [];
  async function* script(): AsyncGenerator<Buffer> {
    yield Buffer.from('BEGIN;\n');
    for (const part of options.parts) {
      if (typeof part === 'string') {
        yield Buffer.from(`${part}\n`);
        continue;
      }
      const producer = part();
      producers.push(producer);
      for await (const chunk of producer.stdout as AsyncIterable<Buffer>) yield chunk;
      await producer.exited;
    }
    yield Buffer.from(mode === 'apply' ? 'COMMIT;\n' : 'ROLLBACK;\n');
  }
  let feedError: unknown;
  const feeding = pipeline(Readable.from(script()), psql.stdin).catch((err: unknown) => {
    feedError = err;
    // Never let psql reach the end of an incomplete script: kill it, the server rolls back.
    psql.stop();
    for (const p of producers) p.stop();
  });
  const psqlResult = await psql.exited.then(
    () => null,
    (err: unknown) => err as Error,
  );
  for (const p of producers) if (psqlResult) p.stop();
  await feeding;
  const stderr = psql.stderr();
  if (psqlResult) {
    const errors = psqlErrors(stderr);
    const producerError = producers.length && feedError ? ` (${(feedError as Error).message})` : '';
    throw new ReplayFailedError(
      `${errors.length ? errors.slice(0, 5).join('; ') : psqlResult.message}${producerError}`,
      { cause: psqlResult },
    );
  }
  if (feedError) {
    const err = feedError as Error & { stderr?: string };
    throw new ReplayFailedError(redact(err.message), { cause: err });
  }
  return { stderr };
}

/** Runs the parts in one transaction; throws ReplayFailedError (rolled back) on the first error. */
export async function applyScript(options: PsqlScriptOptions): Promise<void> {
  await runScript(options, 'apply');
}

/** Runs the parts in a transaction that is rolled back; returns every error message. */
export async function probeScript(options: PsqlScriptOptions): Promise<string[]> {
  const { stderr } = await runScript(options, 'probe');
  return psqlErrors(stderr);
}
