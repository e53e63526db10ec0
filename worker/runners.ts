// What each queue's job runs: the backup engine (lib/backup), restores and verifications (lib/restore).
import { sql } from 'drizzle-orm';
import { GroupTakenOverError } from '../lib/backup/job-rows.ts';
import { runBackupGroup } from '../lib/backup/run-backup.ts';
import { closeIncident, openIncident } from '../lib/notify/incidents.ts';
import { runRestore } from '../lib/restore/run-restore.ts';
import { verifyBackup } from '../lib/restore/verify.ts';
import { RestoreError } from '../lib/restore/errors.ts';
import { FinalJobError, type JobRunner, type Runners } from './job-runner.ts';

/** Thrown when a runner finds its rows moved on under another worker: settle leaves them alone. */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

const backup: JobRunner = async (ctx, job) => {
  try {
    await runBackupGroup(
      {
        db: ctx.db,
        config: ctx.config,
        stores: ctx.stores,
        signal: ctx.signal,
        log: (msg, fields) => ctx.log.info(fields ?? {}, msg),
        // Every backup failure is retried while attempts remain (lib/jobs/fail.ts).
        willRetry: () => job.attempts < job.maxAttempts,
      },
      job.key,
    );
  } catch (err) {
    if (err instanceof GroupTakenOverError) throw new LeaseLostError(err.message);
    throw err;
  }
};

const restore: JobRunner = async (ctx, job) => {
  // A refusal or a bad backup (RestoreError) stays so on a second try; a lost connection may not.
  const final = (err: Error) => err instanceof RestoreError && err.reason !== 'aborted';
  try {
    await runRestore({ ...ctx, willRetry: (err) => !final(err) && job.attempts < job.maxAttempts }, job.key);
  } catch (err) {
    if (final(err as Error)) throw new FinalJobError((err as Error).message, { cause: err });
    throw err;
  }
};

const verify: JobRunner = async (ctx, job) => {
  const row = (
    await ctx.db.execute<{ backup_id: string; is_drill: boolean; allow_unsigned: boolean; exact_copy: boolean }>(
      sql`select backup_id::text, is_drill, allow_unsigned, exact_copy from backup_verifications where id = ${job.key}::uuid`,
    )
  ).rows[0];
  if (!row) return;
  // A failed verification is a result (the row says failed), not an exception.
  const after = await verifyBackup(ctx, row.backup_id, {
    verificationId: job.key,
    isDrill: row.is_drill,
    allowUnsigned: row.allow_unsigned,
    exactCopy: row.exact_copy,
  });
  if (row.is_drill) {
    const notify = { db: ctx.db, config: ctx.config, log: ctx.log };
    if (after.status === 'failed') {
      await openIncident(notify, 'drill_failed', job.tenantId, `restore drill of tenant ${job.tenantId} failed on backup ${row.backup_id}: ${after.errorMessage ?? 'unknown error'}`);
    } else if (after.status === 'passed') await closeIncident(notify, 'drill_failed', job.tenantId);
  } else if (after.status === 'failed') {
    throw new FinalJobError(`verification of backup ${row.backup_id} failed: ${after.errorMessage ?? 'unknown error'}`);
  }
};

export const defaultRunners: Runners = { backup, restore, verify };
