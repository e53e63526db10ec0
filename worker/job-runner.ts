// Running one leased job: its runner, the lease renewed while it runs, and the outcome recorded —
// completed rows released, a failure retried with backoff or failed for good (with a webhook),
// an abort at shutdown queued again, a lost lease left to whoever holds it now.
import type { Logger } from 'pino';
import type { Db } from '../lib/db/client.ts';
import type { Config } from '../lib/env.ts';
import { failJob, requeueAborted } from '../lib/jobs/fail.ts';
import { maskSecrets } from '../lib/process/redact.ts';
import { databaseFailureOf, describeError, operatorDetail } from '../lib/db/errors.ts';
import { releaseLease, renewLease } from '../lib/jobs/lease.ts';
import type { ClaimedJob, JobKind } from '../lib/jobs/queues.ts';
import { closeIncident, openIncident, type IncidentKind } from '../lib/notify/incidents.ts';
import type { Stores } from '../lib/storage/registry.ts';

export interface JobContext {
  db: Db;
  config: Config;
  stores: Stores;
  signal: AbortSignal;
  log: Logger;
}

/** A failure a retry cannot fix (a refused restore, a failed verification): failed for good at once. */
export class FinalJobError extends Error {
  override name = 'FinalJobError';
}

/** Runs the job to its recorded outcome; throws when it failed (FinalJobError: no retry). */
export type JobRunner = (ctx: JobContext, job: ClaimedJob) => Promise<void>;
export type Runners = Record<JobKind, JobRunner>;

const INCIDENT: Record<JobKind, IncidentKind> = { backup: 'backup_failed', restore: 'restore_failed', verify: 'verify_failed' };

export interface RunningJob {
  job: ClaimedJob;
  controller: AbortController;
  /** Set when the worker aborts the job because it is stopping. */
  shuttingDown: boolean;
  /** Set when a renewal found the lease gone: someone else owns the job now. */
  leaseLost: boolean;
  done: Promise<void>;
}

export interface JobRunnerDeps {
  db: Db;
  config: Config;
  stores: Stores;
  log: Logger;
  workerId: string;
  runners: Runners;
}

export function startJob(deps: JobRunnerDeps, job: ClaimedJob): RunningJob {
  const controller = new AbortController();
  const running: RunningJob = { job, controller, shuttingDown: false, leaseLost: false, done: Promise.resolve() };
  const log = deps.log.child({ job_kind: job.kind, job_id: job.key, tenant_id: job.tenantId, attempt: job.attempts });
  running.done = (async () => {
    log.info('job started');
    const ctx: JobContext = { db: deps.db, config: deps.config, stores: deps.stores, signal: controller.signal, log };
    let error: unknown;
    try {
      await deps.runners[job.kind](ctx, job);
    } catch (err) {
      error = err;
    }
    await settle(deps, running, log, error).catch((err: unknown) => {
      // The lease then runs out and a worker recovers the job (lib/jobs/recover.ts): a backup is retried.
      log.error({ err: message(err) }, 'could not record the job outcome');
    });
  })();
  return running;
}

async function settle(deps: JobRunnerDeps, running: RunningJob, log: Logger, error: unknown): Promise<void> {
  const { db, workerId, job } = { ...deps, job: running.job };
  const notify = { db, config: deps.config, log };
  if (running.leaseLost || (error instanceof Error && error.name === 'LeaseLostError')) {
    log.warn({ err: error === undefined ? undefined : message(error) }, 'job lost its lease; left to the worker holding it now');
    return;
  }
  if (running.shuttingDown) {
    const n = await requeueAborted(db, job, workerId);
    if (n > 0) {
      log.warn('job interrupted by shutdown; queued again');
      return;
    }
  }
  if (error === undefined) {
    await releaseLease(db, job, workerId);
    await closeIncident(notify, INCIDENT[job.kind], job.tenantId);
    log.info('job finished');
    return;
  }
  // The runner may leave the row to the queue (a retry): its message is masked here as the runner would.
  const text = maskSecrets(message(error), deps.config);
  // The query behind a database failure is for the operator's log only (secrets masked).
  if (databaseFailureOf(error)) log.error({ detail: maskSecrets(operatorDetail(error), deps.config) }, 'database error in job');
  const { outcome } = await failJob(db, job, workerId, text, deps.config.STRATA_RETRY_BASE_SECONDS, error instanceof FinalJobError);
  if (outcome === 'retry') log.warn({ err: text }, 'job failed; retrying after backoff');
  else if (outcome === 'failed') {
    log.error({ err: text }, 'job failed for good');
    await openIncident(
      notify,
      INCIDENT[job.kind],
      job.tenantId,
      `${job.kind} ${job.key} of tenant ${job.tenantId} failed: ${text}`,
    );
  } else log.warn({ err: text }, 'job failed after its lease was lost');
}

/** Renews the lease; a lost lease aborts the job at once (two holders must never both write). */
export async function keepLease(deps: JobRunnerDeps, running: RunningJob): Promise<void> {
  const held = await renewLease(deps.db, running.job, deps.workerId, deps.config.STRATA_LEASE_SECONDS);
  if (!held && !running.leaseLost) {
    running.leaseLost = true;
    running.controller.abort(new Error('lease lost: another worker took the job over'));
  }
}

/** Safe for a job row, a log line and a webhook: a database failure never shows its SQL or parameters. */
export function message(err: unknown): string {
  return describeError(err);
}
