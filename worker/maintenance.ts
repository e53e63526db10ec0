// The worker's periodic chores, each run by one worker per period (lib/jobs/periodic.ts, table
// periodic_runs, which also keeps each task's last result): prune hourly (PRUNE_EVERY_SECONDS), then
// the collection of chunks no live incremental backup references (lib/chunks/store.ts),
// restore drills weekly, dropping expired undo copies hourly, failed sign-ins older than
// STRATA_AUDIT_SIGNIN_RETENTION_DAYS daily; overdue checks every minute (idempotent: incidents
// dedupe the webhook); leftovers of killed jobs (scratch databases, temp dirs) every 10 minutes,
// claimed per host since temp dirs are local.
import os from 'node:os';
import type { Logger } from 'pino';
import type { Db } from '../lib/db/client.ts';
import type { Config } from '../lib/env.ts';
import { pruneFailedSignIns } from '../lib/auth/throttle.ts';
import { claimPeriodic, recordPeriodicResult } from '../lib/jobs/periodic.ts';
import { checkOverdue } from '../lib/notify/overdue.ts';
import { runPrune } from '../lib/prune/run-prune.ts';
import { PRUNE_EVERY_SECONDS } from '../lib/retention/decisions.ts';
import type { Stores } from '../lib/storage/registry.ts';
import { queueDrills } from './drills.ts';
import { sweepLeftovers } from './leftovers.ts';
import { dropExpiredUndoCopies } from '../lib/restore/undo-copies.ts';
import { collectChunks } from '../lib/chunks/store.ts';

const HOUR = 3600;
const DAY = 24 * HOUR;

export interface MaintenanceDeps {
  db: Db;
  config: Config;
  stores: Stores;
  log: Logger;
  workerId: string;
}

export async function runMaintenance(deps: MaintenanceDeps): Promise<void> {
  const { db, log } = deps;
  const actor = `worker:${deps.workerId}`;
  const chores: [string, number, () => Promise<unknown>][] = [
    ['overdue', 60, () => checkOverdue(deps)],
    ['prune', PRUNE_EVERY_SECONDS, async () => {
      const r = await runPrune({ db, config: deps.config, stores: deps.stores, log }, { dryRun: false });
      return { deleted: r.decisions.filter((d) => d.action === 'delete').length, failed: r.failed.length };
    }],
    // Chunks of incremental backups no backup that could still complete references, unreferenced for a day.
    ['chunk-collect', PRUNE_EVERY_SECONDS, () => collectChunks(db, deps.stores)],
    ['drill', 7 * DAY, () => queueDrills(db, deps.config)],
    ['undo-cleanup', HOUR, () => dropExpiredUndoCopies(db, deps.config, log)],
    [`leftovers:${os.hostname()}`, 10 * 60, () => sweepLeftovers(deps)],
    ['audit-sign-in-prune', DAY, async () => ({ deleted: await pruneFailedSignIns(db, deps.config.STRATA_AUDIT_SIGNIN_RETENTION_DAYS) })],
  ];
  for (const [task, period, run] of chores) {
    try {
      if (!(await claimPeriodic(db, task, period, actor))) continue;
      try {
        const result = await run();
        await recordPeriodicResult(db, task, actor, result ?? null);
        log.info({ task, result }, 'maintenance done');
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        await recordPeriodicResult(db, task, actor, { error }).catch(() => {});
        log.error({ task, err: error }, 'maintenance failed');
      }
    } catch (err) {
      log.error({ task, err: err instanceof Error ? err.message : String(err) }, 'maintenance could not be claimed');
    }
  }
}
