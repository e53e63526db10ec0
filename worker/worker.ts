// `strata worker`: the process that runs Strata's jobs. Each pass of the loop:
//   recover expired leases → reconcile schedules (~30 s) → fire due schedules → claim jobs up to
//   STRATA_WORKER_CONCURRENCY (dumps limited across all workers by the database) → maintenance.
// Leases are renewed every third of STRATA_LEASE_SECONDS. On the stop signal: no new claims,
// running jobs get STRATA_SHUTDOWN_GRACE_SECONDS, then they are aborted and queued again.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import pino, { type Logger } from 'pino';
import { STRATA_VERSION } from '../lib/backup/manifest.ts';
import { getDb, type Db } from '../lib/db/client.ts';
import type { Config } from '../lib/env.ts';
import { claimBackupGroup, claimRestore, claimVerification } from '../lib/jobs/claim.ts';
import { beat, markStopped } from '../lib/jobs/heartbeat.ts';
import type { ClaimedJob, JobKind } from '../lib/jobs/queues.ts';
import { recoverExpiredLeases } from '../lib/jobs/recover.ts';
import { openIncident } from '../lib/notify/incidents.ts';
import { reconcileSchedules } from '../lib/scheduler/reconcile.ts';
import { tick } from '../lib/scheduler/tick.ts';
import { createStores } from '../lib/storage/registry.ts';
import { keepLease, message, startJob, type JobRunnerDeps, type RunningJob, type Runners } from './job-runner.ts';
import { runMaintenance } from './maintenance.ts';
import { defaultRunners } from './runners.ts';

export interface WorkerOptions {
  signal?: AbortSignal;
  /** Stable id (default host-pid-random). */
  id?: string;
  log?: Logger;
  /** Replace job runners (tests). */
  runners?: Partial<Runners>;
  /** Skip maintenance chores (prune, drills, undo copies, overdue checks). */
  maintenance?: boolean;
  /**
   * Run this one job and nothing else (`strata … --wait` with no worker up): no schedules fired or
   * reconciled, no maintenance, no other job claimed, and no heartbeat row, so another command does
   * not take this process for a worker that would run its job.
   */
  only?: { kind: JobKind; key: string };
}

const RECONCILE_EVERY_MS = 30_000;
/** How often a worker looks whether a maintenance chore is due (each has its own period). */
const MAINTENANCE_EVERY_MS = 30_000;
const AFTER_ABORT_WAIT_MS = 15_000;

export async function runWorker(config: Config, opts: WorkerOptions = {}): Promise<void> {
  const id = opts.id ?? config.STRATA_WORKER_ID ?? `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const log = (opts.log ?? pino({ base: { service: 'strata-worker' } })).child({ worker_id: id });
  const db = getDb(config.DATABASE_URL);
  const stores = createStores(config);
  const deps: JobRunnerDeps = { db, config, stores, log, workerId: id, runners: { ...defaultRunners, ...opts.runners } };
  const identity = { id, host: os.hostname(), version: STRATA_VERSION };
  const running = new Map<string, RunningJob>();
  const stop = opts.signal;

  const only = opts.only;
  const announce = only ? async () => {} : (n: number) => beat(db, identity, n);
  await announce(0);
  log.info({ concurrency: config.STRATA_WORKER_CONCURRENCY, max_dumps: config.STRATA_MAX_CONCURRENT_DUMPS, lease_seconds: config.STRATA_LEASE_SECONDS }, 'worker started');

  // Leases and the heartbeat row, on their own timer so a long tick never lets a lease lapse.
  const heartbeat = setInterval(() => {
    void (async () => {
      for (const r of running.values()) await keepLease(deps, r).catch((err: unknown) => log.warn({ err: message(err) }, 'lease renewal failed'));
      await announce(running.size).catch(() => {});
    })();
  }, (config.STRATA_LEASE_SECONDS * 1000) / 3);

  let wake: (() => void) | undefined;
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        stop?.removeEventListener('abort', done);
        wake = undefined;
        resolve();
      }
      wake = done;
      stop?.addEventListener('abort', done, { once: true });
    });

  let lastReconcile = 0;
  let lastMaintenance = 0;
  let maintenance: Promise<void> | undefined;
  try {
    while (!stop?.aborted) {
      try {
        await recover(db, config, log);
        if (only) {
          await claimJobs(deps, running, () => wake?.(), only);
          if (!stop?.aborted) await nap(config.STRATA_WORKER_POLL_MS);
          continue;
        }
        if (Date.now() - lastReconcile >= RECONCILE_EVERY_MS) {
          const r = await reconcileSchedules(db, config);
          lastReconcile = Date.now();
          if (r.ran && (r.schedulesCreated || r.schedulesDeactivated || r.schedulesReactivated || r.schedulesDeleted)) log.info({ reconcile: r }, 'schedules reconciled');
        }
        const fired = await tick(db, config);
        for (const g of fired.fired) log.info({ tenant_id: g.tenantId, dump_group: g.dumpGroup, schedules: g.scheduleTypes }, 'schedule fired');
        await claimJobs(deps, running, () => wake?.());
        if (opts.maintenance !== false && !maintenance && Date.now() - lastMaintenance >= MAINTENANCE_EVERY_MS) {
          lastMaintenance = Date.now();
          maintenance = runMaintenance({ db, config, stores, log, workerId: id }).finally(() => (maintenance = undefined));
        }
      } catch (err) {
        log.error({ err: message(err) }, 'worker pass failed; trying again');
      }
      if (!stop?.aborted) await nap(config.STRATA_WORKER_POLL_MS);
    }
    log.info({ running: running.size }, 'stopping: no new jobs; waiting for running ones');
    await shutdown(running, config, log);
    await maintenance;
  } finally {
    clearInterval(heartbeat);
    if (!only) await markStopped(db, id).catch(() => {});
    log.info('worker stopped');
  }
}

async function recover(db: Db, config: Config, log: Logger): Promise<void> {
  for (const r of await recoverExpiredLeases(db, config.STRATA_RETRY_BASE_SECONDS)) {
    const fields = { job_kind: r.kind, job_id: r.id, tenant_id: r.tenantId, attempts: r.attempts, previous_worker: r.lockedBy };
    if (r.status === 'pending') log.warn(fields, 'lease expired; job queued again with backoff');
    else {
      log.error(fields, 'lease expired too often; job failed for good');
      const kind = r.kind === 'backup' ? 'backup_failed' : r.kind === 'restore' ? 'restore_failed' : 'verify_failed';
      await openIncident({ db, config, log }, kind, r.tenantId, `${r.kind} ${r.id} of tenant ${r.tenantId} failed for good: its worker stopped ${r.attempts} times`);
    }
  }
}

const CLAIM_ORDER: JobKind[] = ['restore', 'verify', 'backup'];

/** Claims due jobs up to the concurrency (`only`: that job alone, when it is due) and starts them. */
async function claimJobs(deps: JobRunnerDeps, running: Map<string, RunningJob>, onDone: () => void, only?: { kind: JobKind; key: string }): Promise<void> {
  const { db, config, workerId } = deps;
  const lease = { workerId, leaseSeconds: config.STRATA_LEASE_SECONDS };
  const claimers: Record<JobKind, () => Promise<ClaimedJob | null>> = {
    backup: () => claimBackupGroup(db, { ...lease, maxConcurrentDumps: config.STRATA_MAX_CONCURRENT_DUMPS, dumpGroup: only?.key }),
    restore: () => claimRestore(db, { ...lease, id: only?.key }),
    verify: () => claimVerification(db, { ...lease, id: only?.key }),
  };
  const order = only ? [only.kind] : CLAIM_ORDER;
  const idle = new Set<JobKind>();
  while (running.size < config.STRATA_WORKER_CONCURRENCY && idle.size < order.length) {
    for (const kind of order) {
      if (idle.has(kind) || running.size >= config.STRATA_WORKER_CONCURRENCY) continue;
      const job = await claimers[kind]();
      if (!job) {
        idle.add(kind);
        continue;
      }
      const r = startJob(deps, job);
      const key = `${job.kind}:${job.key}`;
      running.set(key, r);
      void r.done.finally(() => {
        running.delete(key);
        onDone();
      });
    }
  }
}

async function shutdown(running: Map<string, RunningJob>, config: Config, log: Logger): Promise<void> {
  const all = () => Promise.all([...running.values()].map((r) => r.done));
  const graceMs = config.STRATA_SHUTDOWN_GRACE_SECONDS * 1000;
  const finished = await Promise.race([all().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), graceMs).unref())]);
  if (finished) return;
  log.warn({ running: running.size }, 'grace period over: aborting running jobs');
  for (const r of running.values()) {
    r.shuttingDown = true;
    r.controller.abort(new Error('worker shutting down'));
  }
  await Promise.race([all(), new Promise((r) => setTimeout(r, AFTER_ABORT_WAIT_MS).unref())]);
}
