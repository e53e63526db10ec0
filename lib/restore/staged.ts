// The staged restore, for tenants too large for one transaction on the server's lock table
// (lib/restore/lock-budget.ts): the dump is rewritten to carry a staging schema's name
// (lib/restore/schema-rename.ts), replayed into that schema in as many transactions as needed — the
// schema and its grants first, then independent groups at once, each creating, loading and indexing
// its tables in one transaction (lib/restore/parallel-groups.ts; ReplaySplit for when that cannot
// be), then what reads other tables (foreign keys, materialized view data) by `pg_restore -j` — and
// finally swapped with the live schema in one short transaction (live → moved-aside name, staging →
// live name, the restore row completed). Until that commit nobody sees the staging schema change
// anything; on any failure it is dropped (in batches too) and the tenant is as it was.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../env.ts';
import { quoteIdent } from '../db/ident.ts';
import { readArchiveToc, writeArchiveWithToc, type ArchiveToc, type TocEntry } from './archive-toc.ts';
import { assertNoDependentsSql, functionsNamingSchema } from './catalog.ts';
import { RESTORE_DEFAULT_PRIVILEGES, SUSPEND_DEFAULT_PRIVILEGES } from './default-privileges.ts';
import { InvalidDumpError, MissingPrerequisitesError, ReplayFailedError, RestoreError } from './errors.ts';
import {
  archiveLockNeed,
  fitsOneTransaction,
  isLockExhaustion,
  liveLockNeed,
  lockBudget,
  lockCapacityError,
  lockExhaustionError,
  likelyFails,
  STAGE_ABOVE,
  type LockBudget,
} from './lock-budget.ts';
import { applyScript, psqlErrors } from './psql.ts';
import { replayUrl } from './replay-role.ts';
import { withClient } from './scratch.ts';
import { dataGroups, replayGroups } from './parallel-groups.ts';
import { NotRenameableError, renameArchiveEntries, TextSelfReferenceError } from './schema-rename.ts';
import { listText, schemaFirst } from './schema-first.ts';
import { PgConnection } from '../process/child-env.ts';
import { redactSecrets } from '../process/redact.ts';
import { runTool, startTool } from '../process/tool-process.ts';
import { TOOLS } from '../process/system-tools.ts';

const SECTION_NONE = 1;
const SECTION_PRE_DATA = 2;
/**
 * Locks one definitions batch may take: half of what one transaction may take before Strata stages
 * (lock-budget.ts STAGE_ABOVE), so a tenant staged because it needs more than that takes two batches or
 * more; never less than 500 locks. Each batch costs a pg_restore and a psql that read the whole archive's TOC: on the
 * bench's 1,600-table tenant, 500-lock batches (20 of them) spent more CPU in pg_restore than the
 * replay itself.
 */
function batchLocks(budget: LockBudget): number {
  return Math.max(500, Math.floor((budget.capacity * STAGE_ABOVE) / 2));
}

/** The staging schema of a restore row: fixed, so a re-run after a crash finds and drops its leftover. */
export function stagingSchemaName(restoreId: string): string {
  return `strata_stage_${restoreId.replace(/[^0-9a-f]/gi, '').slice(0, 12).toLowerCase()}`;
}



/**
 * Before anything is downloaded: when the live schema is too large for one transaction and names
 * itself in function text (so it could not be staged), refuse now, naming the setting to raise.
 */
export async function refuseUnstageableBeforeDownload(config: Config, liveSchema: string): Promise<void> {
  const url = replayUrl(config);
  const [need, budget] = await Promise.all([liveLockNeed(url, liveSchema), lockBudget(url)]);
  if (!likelyFails(need, budget)) return;
  const naming = await functionsNamingSchema(url, liveSchema);
  if (naming.length === 0) return;
  throw lockCapacityError(
    liveSchema,
    need,
    budget,
    `it cannot be restored in several transactions through a staging schema because these functions name the schema ` +
      `in their body or settings: ${naming.join(', ')}`,
  );
}

export interface StagedPlan {
  /** The archive rewritten to the staging schema's name. */
  dumpPath: string;
  staging: string;
  toc: ArchiveToc;
  need: number;
  budget: LockBudget;
  /** The entries a replay without --create runs (`pg_restore --list`): the others are never listed. */
  restored: ReadonlySet<number>;
}

/**
 * After the download: null when the dump fits one transaction (the ordinary path), a staged plan
 * (the archive rewritten under the staging name, in `workDir`) when it does not, or a LockCapacityError
 * when it does not and cannot be staged.
 */
export async function planStagedRestore(
  config: Config,
  dumpPath: string,
  source: string,
  staging: string,
  workDir: string,
  options: {
    /** The dump ids `pg_restore --list` of the archive shows (lib/restore/toc-check.ts listedEntryIds). */
    restored: ReadonlySet<number>;
    /** Runs before the rewritten copy (about the dump's size) is written: the free-space check. */
    beforeWrite?: () => Promise<void>;
    /** Stage even when one transaction would do (tests, the bench). */
    force?: boolean;
  },
): Promise<StagedPlan | null> {
  // An archive this reader does not know (a newer pg_dump) takes the ordinary path.
  const toc = await readArchiveToc(dumpPath).catch((err: unknown) => {
    if (err instanceof InvalidDumpError) return null;
    throw err;
  });
  if (!toc) return null;
  const need = archiveLockNeed(toc.entries);
  const budget = await lockBudget(replayUrl(config));
  if (fitsOneTransaction(need, budget) && !options.force) return null;
  let entries: TocEntry[];
  try {
    entries = renameArchiveEntries(toc.entries, source, staging);
  } catch (err) {
    if (!(err instanceof TextSelfReferenceError || err instanceof NotRenameableError)) throw err;
    if (!likelyFails(need, budget) && !options.force) return null;
    const why =
      err instanceof TextSelfReferenceError
        ? `it cannot be restored in several transactions through a staging schema because these functions name the ` +
          `schema in their body or settings: ${err.functions.join(', ')}`
        : `it cannot be restored in several transactions through a staging schema: ${err.message}`;
    throw lockCapacityError(source, need, budget, why);
  }
  await options.beforeWrite?.();
  const stagedPath = path.join(workDir, 'staged.pgdump');
  await fs.promises.rm(stagedPath, { force: true });
  await writeArchiveWithToc(dumpPath, toc, entries, stagedPath);
  return { dumpPath: stagedPath, staging, toc: { ...toc, entries }, need, budget, restored: options.restored };
}

/** Entries in pg_restore's effective sections: an unsectioned entry belongs to the section before it. */
function definitionBatches(entries: TocEntry[], maxLocks: number): { batches: number[][]; rest: number[] } {
  const batches: number[][] = [];
  const rest: number[] = [];
  let section = SECTION_PRE_DATA;
  let batch: number[] = [];
  let weight = 0;
  for (const e of entries) {
    if (e.section !== SECTION_NONE) section = e.section;
    if (section !== SECTION_PRE_DATA || e.desc === 'DATABASE' || e.desc === 'DATABASE PROPERTIES') {
      rest.push(e.dumpId);
      continue;
    }
    const w = archiveLockNeed([e]) - archiveLockNeed([]);
    if (weight + w > maxLocks && batch.length > 0) {
      batches.push(batch);
      batch = [];
      weight = 0;
    }
    batch.push(e.dumpId);
    weight += w;
  }
  if (batch.length > 0) batches.push(batch);
  return { batches, rest };
}

/** Whether the replaying role has global default privileges (the definitions then suspend them, batch by batch). */
async function hasGlobalDefaultPrivileges(url: string): Promise<boolean> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ any: boolean }>(
      `SELECT EXISTS (SELECT FROM pg_catalog.pg_default_acl d WHERE d.defaclnamespace = 0
         AND d.defaclrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)) AS any`,
    );
    return rows[0]!.any;
  });
}

/**
 * Runs `run` for every item, at most `limit` at once. On the first failure the others are cancelled
 * (their signal aborts) and, once every run has ended, that first failure is thrown.
 */
export async function allAtMost<T>(
  limit: number,
  items: readonly T[],
  run: (item: T, index: number, signal: AbortSignal) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const abort = new AbortController();
  const onAbort = () => abort.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let next = 0;
  let failure: { error: unknown } | null = null;
  const lane = async () => {
    while (!failure && !abort.signal.aborted && next < items.length) {
      const index = next++;
      try {
        await run(items[index]!, index, abort.signal);
      } catch (error) {
        failure ??= { error };
        abort.abort(error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (failure) throw (failure as { error: unknown }).error;
  signal?.throwIfAborted();
}

/** A libpq connection string naming only the database (host, user, password come from the environment). */
function dbnameConninfo(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  return `dbname='${name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export interface StagedReplayOptions {
  config: Config;
  plan: StagedPlan;
  /** The schema the staging schema becomes. */
  target: string;
  /** The live schema of that name, renamed aside in the swap. */
  moveAside?: { live: string; aside: string };
  /** SQL run last in the swap's transaction (the restore's swap marker, lib/restore/swap-marker.ts). */
  finish: string;
  workDir: string;
  signal?: AbortSignal;
  /** Groups replayed at once (default: the machine's cores, 2 … 4). */
  jobs?: number;
  /** Called with how the replay was split (tests). */
  onGroups?: (split: ReplaySplit) => void;
}

/**
 * How a staged replay ran, after the schema's own batch:
 * - `together`: independent groups, each one transaction creating, loading and indexing its tables;
 * - `definitions in batches`: the replay role has global default privileges, whose suspension locks
 *   one row that concurrent batches would queue on, or one linked set is too large for a group (a
 *   view over every table, a partition tree): the definitions one batch after another, then the
 *   data and post-data in groups.
 * `after`: entries left for a final `pg_restore -j` once every group has committed (foreign keys,
 * materialized view data, …).
 */
export interface ReplaySplit {
  mode: 'together' | 'definitions in batches';
  groups: number;
  after: number;
}

export async function runStagedReplay(options: StagedReplayOptions): Promise<void> {
  const { config, plan, signal, workDir } = options;
  const url = replayUrl(config);
  const redact = (t: string) => redactSecrets(t, config);
  await dropSchemaInBatches(url, plan.staging);
  const jobs = options.jobs ?? Math.min(4, Math.max(2, os.availableParallelism()));
  // Groups replayed at once share the lock table: together they take what one batch may take.
  const groupLocks = Math.max(500, Math.floor((plan.budget.capacity * STAGE_ABOVE) / jobs));
  const connection = PgConnection.fromUrl(url, { appName: 'strata-restore', dir: workDir });
  try {
    // The staging schema and its grants in a batch of their own, first (schema-first.ts).
    const split = schemaFirst(plan.toc.entries);
    const headIds = new Set(split.head);
    const definitions = plan.toc.entries.filter((e) => !headIds.has(e.dumpId));
    const { batches, rest: unfiltered } = definitionBatches(definitions, batchLocks(plan.budget));
    // Entries pg_restore skips without --create (the DATABASE entry and its grants) are left out: a
    // pg_restore -j over nothing but them cost 0.3 s on the bench's large tenant.
    const rest = unfiltered.filter((id) => plan.restored.has(id));
    const definitionsBatch = async (ids: number[], name: string, batchSignal?: AbortSignal) => {
      const list = path.join(workDir, `staged-definitions-${name}.list`);
      await fs.promises.writeFile(list, listText(ids));
      await applyScript({
        config,
        url,
        dir: workDir,
        signal: batchSignal,
        parts: [
          // As in the single-transaction replay: waiting for the default privileges' row (another
          // restore by the same role) must not hang forever.
          `SET lock_timeout = '60s';`,
          SUSPEND_DEFAULT_PRIVILEGES,
          () => startTool(TOOLS.pgRestore, ['-L', list, '-f', '-', plan.dumpPath], { stdin: 'ignore', redact, signal: batchSignal }),
          RESTORE_DEFAULT_PRIVILEGES,
        ],
      });
    };
    const pgRestoreList = async (ids: number[], name: string, args: string[], runSignal?: AbortSignal) => {
      const list = path.join(workDir, `staged-${name}.list`);
      await fs.promises.writeFile(list, listText(ids));
      await runTool(TOOLS.pgRestore, ['--exit-on-error', '--no-password', ...args, '-L', list, '-d', dbnameConninfo(url), plan.dumpPath], {
        connection,
        redact,
        signal: runSignal,
      });
    };
    const inGroups = (groups: number[][], name: string) =>
      allAtMost(jobs, groups, (ids, i, s) => pgRestoreList(ids, `${name}-${i}`, ['--single-transaction'], s), signal);
    // Independent groups at once (parallel-groups.ts), unless the replay role has global default
    // privileges (ReplaySplit). Without them there is nothing to suspend, so pg_restore replays each
    // group itself.
    const parallel = !(await hasGlobalDefaultPrivileges(url));
    const together = parallel ? replayGroups(plan.toc.entries, batches.flat(), rest, groupLocks, jobs) : null;
    await definitionsBatch([...split.head, ...(together?.first ?? [])], 'head', signal);
    let after: number[];
    if (together) {
      options.onGroups?.({ mode: 'together', groups: together.groups.length, after: together.after.length });
      await inGroups(together.groups, 'group');
      after = together.after;
    } else {
      for (const [i, batch] of batches.entries()) await definitionsBatch(batch, String(i), signal);
      const data = dataGroups(plan.toc.entries, rest, groupLocks, jobs);
      options.onGroups?.({ mode: 'definitions in batches', groups: data.groups.length, after: data.after.length });
      await inGroups(data.groups, 'data');
      after = data.after;
    }
    if (after.length > 0) await pgRestoreList(after, 'after', ['-j', String(jobs)], signal);
    await applyScript({
      config,
      url,
      dir: workDir,
      signal,
      parts: [
        `SET lock_timeout = '60s';`,
        ...(options.moveAside
          ? [
              `ALTER SCHEMA ${quoteIdent(options.moveAside.live)} RENAME TO ${quoteIdent(options.moveAside.aside)};`,
              assertNoDependentsSql(options.moveAside.aside),
            ]
          : []),
        `ALTER SCHEMA ${quoteIdent(plan.staging)} RENAME TO ${quoteIdent(options.target)};`,
        options.finish,
      ],
    });
  } catch (err) {
    await dropSchemaInBatches(url, plan.staging).catch(() => {});
    throw stagedFailure(err, options.target, plan);
  }
}

/** The failure of a staged replay as the error a person can act on. */
function stagedFailure(err: unknown, target: string, plan: StagedPlan): Error {
  if (!(err instanceof Error)) return new Error(String(err));
  const stderr = (err as { stderr?: string }).stderr ?? '';
  const errors = [...new Set([...psqlErrors(stderr), ...psqlErrors(err.message)])];
  const text = errors.length ? errors.join('; ') : err.message;
  if (isLockExhaustion(text)) return lockExhaustionError(plan.need, plan.budget);
  if (err instanceof RestoreError && !(err instanceof ReplayFailedError)) return err;
  if (errors.some((e) => /does not exist/.test(e))) return new MissingPrerequisitesError(errors.slice(0, 20));
  return new ReplayFailedError(`the staged replay of schema ${quoteIdent(target)} failed: ${text.slice(0, 2000)}`, { cause: err });
}

/**
 * Drops a schema holding thousands of relations without one transaction locking them all: relations
 * a few hundred per transaction, then the schema. `guard`, when given, is SQL run first in each of
 * those transactions (e.g. lib/restore/catalog.ts assertNoDependentsSql): if it raises, that
 * transaction drops nothing and the error is thrown.
 */
export async function dropSchemaInBatches(url: string, schema: string, options: { batch?: number; guard?: string } = {}): Promise<void> {
  const batch = options.batch ?? 200;
  await withClient(url, async (c) => {
    await c.query(`SET lock_timeout = '60s'`);
    const inTransaction = async (statements: string[]) => {
      await c.query('BEGIN');
      try {
        if (options.guard) await c.query(options.guard);
        for (const s of statements) await c.query(s);
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        throw err;
      }
    };
    for (;;) {
      const { rows } = await c.query<{ kind: string; name: string }>(
        `SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                  WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS kind,
                format('%I.%I', s.nspname, c.relname) AS name
         FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
         WHERE s.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND NOT c.relispartition
           -- An identity column's sequence goes with its table (it cannot be dropped on its own).
           AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')
         ORDER BY c.oid DESC LIMIT $2`,
        [schema, batch],
      );
      if (rows.length === 0) break;
      await inTransaction(rows.map((r) => `DROP ${r.kind} IF EXISTS ${r.name} CASCADE`));
    }
    await inTransaction([`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`]);
  });
}
