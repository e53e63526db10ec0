// How many locks a restore's one transaction takes, and how many the server can give it.
//
// Creating a relation takes a lock on it until the transaction ends, so replaying a dump in one
// transaction holds about one lock per relation it creates (tables with their TOAST table and its
// index, sequences, indexes, views). PostgreSQL's shared lock table has room for
// max_locks_per_transaction × (max_connections + max_prepared_transactions) locks for all sessions
// together (the documented size; the server rounds up a little). A transaction that needs more fails
// with SQLSTATE 53200 "out of shared memory".
import pg from 'pg';
import { quoteIdent } from '../db/ident.ts';
import type { TocEntry } from './archive-toc.ts';
import { LockCapacityError } from './errors.ts';

/** Above this share of the lock table, one transaction is not attempted (others need locks too). */
export const STAGE_ABOVE = 0.5;
/** Locks one restore transaction takes besides the relations it creates (catalogs, the swap, slack). */
const OVERHEAD = 50;

export interface LockBudget {
  maxLocksPerTransaction: number;
  maxConnections: number;
  maxPreparedTransactions: number;
  /** max_locks_per_transaction × (max_connections + max_prepared_transactions): the documented size. */
  capacity: number;
  /** The slots the server allocates for sure: max_locks_per_transaction × (every backend it may run +
   * max_prepared_transactions), counting autovacuum, background and WAL sender processes. Beyond it a
   * transaction may still get locks from spare shared memory, or may not. */
  slots: number;
}

export async function lockBudget(url: string): Promise<LockBudget> {
  const client = new pg.Client({ connectionString: url, application_name: 'strata-restore' });
  client.on('error', () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{ mlpt: number; mc: number; mpt: number; others: number }>(
      `SELECT current_setting('max_locks_per_transaction')::int AS mlpt, current_setting('max_connections')::int AS mc,
              current_setting('max_prepared_transactions')::int AS mpt,
              current_setting('autovacuum_max_workers')::int + 1 + current_setting('max_worker_processes')::int
                + current_setting('max_wal_senders')::int AS others`,
    );
    const r = rows[0]!;
    return {
      maxLocksPerTransaction: r.mlpt,
      maxConnections: r.mc,
      maxPreparedTransactions: r.mpt,
      capacity: r.mlpt * (r.mc + r.mpt),
      slots: r.mlpt * (r.mc + r.others + r.mpt),
    };
  } finally {
    await client.end().catch(() => {});
  }
}

/** Locks a one-transaction replay of what the live schema holds now would take (from pg_class). */
export async function liveLockNeed(url: string, schema: string): Promise<number> {
  const client = new pg.Client({ connectionString: url, application_name: 'strata-restore' });
  client.on('error', () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      `SELECT (count(*) + 2 * count(*) FILTER (WHERE c.reltoastrelid <> 0))::int AS n
       FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = $1`,
      [schema],
    );
    return rows[0]!.n + OVERHEAD;
  } finally {
    await client.end().catch(() => {});
  }
}

// Relations each kind of archive entry creates; a table or materialized view may get a TOAST table
// and its index (counted: the archive does not say).
const RELATIONS_PER_ENTRY: Record<string, number> = {
  TABLE: 3,
  'MATERIALIZED VIEW': 3,
  'FOREIGN TABLE': 1,
  SEQUENCE: 1,
  VIEW: 1,
  INDEX: 1,
  'INDEX ATTACH': 0,
  CONSTRAINT: 1,
  TYPE: 1,
};

/** Locks a one-transaction replay of the archive would take (from its TOC). */
export function archiveLockNeed(entries: TocEntry[]): number {
  return entries.reduce((n, e) => n + (RELATIONS_PER_ENTRY[e.desc ?? ''] ?? 0), OVERHEAD);
}

export const fitsOneTransaction = (need: number, budget: LockBudget) => need <= budget.capacity * STAGE_ABOVE;
/** A tenant that cannot be staged is refused only when one transaction would exceed every slot the server allocates. */
export const likelyFails = (need: number, budget: LockBudget) => need > budget.slots;

/** The max_locks_per_transaction at which `need` fits one transaction with the margin, in steps of 64. */
export function requiredMaxLocks(need: number, budget: LockBudget): number {
  const backends = budget.maxConnections + budget.maxPreparedTransactions;
  return Math.max(budget.maxLocksPerTransaction + 64, Math.ceil(need / STAGE_ABOVE / backends / 64) * 64);
}

export function describeBudget(budget: LockBudget): string {
  return (
    `max_locks_per_transaction × (max_connections + max_prepared_transactions) = ${budget.maxLocksPerTransaction} × ` +
    `(${budget.maxConnections} + ${budget.maxPreparedTransactions}) = ${budget.capacity}`
  );
}

/** The refusal for a tenant that needs one transaction larger than the server allows. */
export function lockCapacityError(schema: string, need: number, budget: LockBudget, why: string): LockCapacityError {
  return new LockCapacityError(
    `refused before touching anything: restoring schema ${quoteIdent(schema)} in one transaction needs about ${need} locks ` +
      `(one per table, index, sequence and TOAST relation it creates), more than this server's lock table can hold ` +
      `beside its other sessions (${describeBudget(budget)} for all sessions together); ${why}. Raise ` +
      `max_locks_per_transaction to at least ${requiredMaxLocks(need, budget)} (postgresql.conf or ALTER SYSTEM; ` +
      `takes a server restart) and run the restore again`,
  );
}

/** Whether an error text is PostgreSQL running out of lock slots (SQLSTATE 53200). */
export function isLockExhaustion(message: string): boolean {
  return /out of shared memory|max_locks_per_transaction/i.test(message);
}

/** What the prerequisite probe or the replay says when the server ran out of lock slots. */
export function lockExhaustionError(need: number | null, budget: LockBudget): LockCapacityError {
  const needs = need === null ? '' : `it needs about ${need} locks and `;
  const value = need === null ? `above ${budget.maxLocksPerTransaction}` : `to at least ${requiredMaxLocks(need, budget)}`;
  return new LockCapacityError(
    `the server ran out of lock slots ("out of shared memory", SQLSTATE 53200) replaying the backup in one transaction: ` +
      `${needs}${describeBudget(budget)} are shared by all sessions. Nothing is missing from the database and nothing ` +
      `was changed; raise max_locks_per_transaction ${value} (postgresql.conf or ALTER SYSTEM; takes a server restart) ` +
      `and run the restore again`,
  );
}
