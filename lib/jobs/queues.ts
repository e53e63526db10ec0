// The three job queues the worker serves. Every queue table carries the same lease columns
// (lib/db/schema.ts `lease`); a backup is claimed by its dump_group (one dump, one row per storage tier).
import { sql, type SQL } from 'drizzle-orm';

export type JobKind = 'backup' | 'restore' | 'verify';
export const JOB_KINDS: readonly JobKind[] = ['backup', 'restore', 'verify'];

interface Queue {
  table: SQL;
  /** The column a claim hands out: all rows sharing it are leased together. */
  key: SQL;
  /** Statuses in which a row is still the queue's business. */
  live: SQL;
  /**
   * Statuses in which a row whose lease ran out goes back to the queue (lib/jobs/recover.ts). A backup
   * row marked failed by its runner still holds its lease until the worker decides about a retry
   * (lib/jobs/fail.ts): if that decision is never recorded (a dropped connection, a crash), it is
   * the lease's to settle. A failed restore or verification is final.
   */
  recoverable: SQL;
}

export const QUEUES: Record<JobKind, Queue> = {
  backup: { table: sql.raw('backup_jobs'), key: sql.raw('dump_group'), live: sql.raw(`('pending', 'running')`), recoverable: sql.raw(`('pending', 'running', 'failed')`) },
  restore: { table: sql.raw('restore_jobs'), key: sql.raw('id'), live: sql.raw(`('pending', 'running')`), recoverable: sql.raw(`('pending', 'running')`) },
  verify: { table: sql.raw('backup_verifications'), key: sql.raw('id'), live: sql.raw(`('pending', 'running')`), recoverable: sql.raw(`('pending', 'running')`) },
};

/** A leased job: `key` is the dump_group for backups, the row id otherwise. */
export interface ClaimedJob {
  kind: JobKind;
  key: string;
  tenantId: string;
  /** Every row id the lease covers (one per storage tier for a backup group). */
  ids: string[];
  attempts: number;
  maxAttempts: number;
}

/** Retry delay after the n-th failed attempt, in SQL: base × 2^(n−1), at most an hour. */
export function backoffSql(baseSeconds: number): SQL {
  return sql`make_interval(secs => least(${baseSeconds}::float8 * power(2, greatest(attempts - 1, 0)), 3600))`;
}
