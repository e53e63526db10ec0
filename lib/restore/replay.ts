// Replaying a dump into the live database: one transaction that (optionally) renames the live schema
// aside, suspends the restoring role's default privileges, pipes `pg_restore -f -` (pre-data, data,
// post-data, in pg_restore's order) into psql, puts the default privileges back and writes the
// restore's swap marker (swap-marker.ts). Commit swaps atomically; any failure leaves the target exactly
// as it was. psql connects as the replay role (replay-role.ts), never as Strata's own role.
import crypto from 'node:crypto';
import path from 'node:path';
import type { Config } from '../env.ts';
import { quoteIdent } from '../db/ident.ts';
import { assertNoDependentsSql } from './catalog.ts';
import { RESTORE_DEFAULT_PRIVILEGES, SUSPEND_DEFAULT_PRIVILEGES } from './default-privileges.ts';
import { MissingPrerequisitesError } from './errors.ts';
import { applyScript, probeScript } from './psql.ts';
import { replayUrl, type ReplayRole } from './replay-role.ts';
import { readArchiveToc } from './archive-toc.ts';
import { writeSchemaFirstLists } from './schema-first.ts';
import { archiveLockNeed, isLockExhaustion, lockBudget, lockExhaustionError } from './lock-budget.ts';
import { redactSecrets } from '../process/redact.ts';
import { startTool } from '../process/tool-process.ts';
import { TOOLS } from '../process/system-tools.ts';

export interface ReplayOptions {
  config: Config;
  /** Who replays: checked by replayRole() (not a superuser unless allowed). */
  role: ReplayRole;
  /** The archive to replay, in the job's private temp dir; its schema must carry the target name already. */
  dumpPath: string;
  /** The live schema of that name, renamed aside first (in place, cross-tenant). */
  moveAside?: { live: string; aside: string };
  /** SQL run last, inside the transaction (the restore's swap marker). */
  finish?: string;
  signal?: AbortSignal;
}

// Waiting for a lock on the live schema must not hang a restore forever; pg_restore's own
// `SET lock_timeout = 0` follows and governs the replay itself.
const LOCK_TIMEOUT = `SET lock_timeout = '60s';`;

/** The archive as SQL, in two pg_restore runs: the schema and its grants, then the rest (schema-first.ts). */
async function pgRestoreSql(config: Config, dumpPath: string, schemaOnly: boolean, signal?: AbortSignal) {
  const lists = await writeSchemaFirstLists(dumpPath, path.dirname(dumpPath));
  return [lists.head, lists.tail].map(
    (list) => () =>
      startTool(TOOLS.pgRestore, [...(schemaOnly ? ['--schema-only'] : []), '-L', list, '-f', '-', dumpPath], {
        stdin: 'ignore',
        redact: (t: string) => redactSecrets(t, config),
        signal,
      }),
  );
}

/** Lock exhaustion (SQLSTATE 53200) said as what it is, with the setting to raise (lib/restore/lock-budget.ts). */
async function lockExhaustion(config: Config, dumpPath: string) {
  const need = await readArchiveToc(dumpPath).then((toc) => archiveLockNeed(toc.entries), () => null);
  return lockExhaustionError(need, await lockBudget(replayUrl(config)));
}

export async function replayDump(options: ReplayOptions): Promise<void> {
  const { config, role, dumpPath, moveAside, signal } = options;
  await applyScript({
    config,
    url: role.url,
    dir: path.dirname(dumpPath),
    signal,
    parts: [
      LOCK_TIMEOUT,
      ...(moveAside
        ? [`ALTER SCHEMA ${quoteIdent(moveAside.live)} RENAME TO ${quoteIdent(moveAside.aside)};`, assertNoDependentsSql(moveAside.aside)]
        : []),
      SUSPEND_DEFAULT_PRIVILEGES,
      ...(await pgRestoreSql(config, dumpPath, false, signal)),
      RESTORE_DEFAULT_PRIVILEGES,
      'RESET search_path;',
      ...(options.finish ? [options.finish] : []),
    ],
  }).catch(async (err: unknown) => {
    throw err instanceof Error && isLockExhaustion(err.message) ? await lockExhaustion(config, dumpPath) : err;
  });
}

/**
 * Before touching anything: replays the dump's definitions (no data) in a transaction that is rolled
 * back, every statement on its own savepoint, and throws MissingPrerequisitesError listing every
 * error — a missing role, extension type, `public` table or function is named by PostgreSQL itself.
 */
export async function checkPrerequisites(options: Omit<ReplayOptions, 'finish'>): Promise<void> {
  const { config, role, dumpPath, moveAside, signal } = options;
  const probeAside = `strata_probe_${crypto.randomBytes(4).toString('hex')}`;
  const errors = await probeScript({
    config,
    url: role.url,
    dir: path.dirname(dumpPath),
    signal,
    parts: [
      LOCK_TIMEOUT,
      ...(moveAside ? [`ALTER SCHEMA ${quoteIdent(moveAside.live)} RENAME TO ${quoteIdent(probeAside)};`] : []),
      ...(await pgRestoreSql(config, dumpPath, true, signal)),
    ],
  });
  if (errors.some(isLockExhaustion)) throw await lockExhaustion(config, dumpPath);
  if (errors.length > 0) throw new MissingPrerequisitesError([...new Set(errors)].slice(0, 20));
}
