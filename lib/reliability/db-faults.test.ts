// Fault: the worker's PostgreSQL connections dropped (pg_terminate_backend of its pool and of the
// strata-backup / strata-restore connections of its pg_dump, psql and pg_restore) at a random point
// of a backup and of a restore: the job recovers (retried) or fails cleanly; the stored state and
// the live tenant stay consistent.
// Abuse: two admins restoring the same tenant at the same instant: one wins, the other is refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { createBackupGroup } from '../backup/create.ts';
import type { Db } from '../db/client.ts';
import { quoteIdent } from '../db/ident.ts';
import { restoreJobs, type BackupJobRow } from '../db/schema.ts';
import { addTinyTenants } from '../jobs/test-support.ts';
import { createRestore } from '../restore/create.ts';
import { RestoreConflictError } from '../restore/errors.ts';
import { createStores, type Stores } from '../storage/registry.ts';
import { createTestBackups } from '../testing/fixture-backup.ts';
import { fingerprint } from '../testing/fixture-tenant.ts';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import type { WorkerProcess } from '../../worker/test-support.ts';
import { assertStoredState, catalogTexts, leakedSecrets, randomInt, runCase, secretsOfEnv, sleep, waitUntil } from './harness.ts';
import { killVictim, startVictim, workerLogLines } from './workers.ts';

const APP = 'strata_chaos_worker';

describe('database connections dropped mid-job; two restores at once', () => {
  let stack: TestStack;
  let db: Db;
  let stores: Stores;
  let worker: WorkerProcess;
  let backups: Record<string, BackupJobRow>;
  before(async () => {
    stack = await startTestStack({ B2_PART_SIZE_MB: '5' });
    db = stack.db;
    stores = createStores(stack.config);
    await addTinyTenants(db, ['pd', 'pr'], { plan: 'basic', rows: 1500, rowBytes: 2048 });
    backups = await createTestBackups({ db, config: stack.config, stores }, 'pr', ['s3_standard', 'b2_cold']);
    const u = new URL(stack.env.DATABASE_URL!);
    u.searchParams.set('application_name', APP);
    worker = startVictim({ ...stack.env, DATABASE_URL: u.toString() }, 'pg-faults');
  });
  after(async () => {
    if (worker) await killVictim(worker);
    await stack?.stop();
  });

  /** Drops every connection of the worker: its pool and the PostgreSQL programs it started. */
  const dropConnections = async () => {
    const rows = (
      await db.execute<{ app: string }>(sql`
        select case when application_name = ${APP} then 'worker pool' else application_name end as app, pg_terminate_backend(pid)
        from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid()
          and application_name in (${APP}, 'strata-backup', 'strata-restore', 'strata-verify')`)
    ).rows;
    const apps = [...new Set(rows.map((r) => r.app))].sort();
    return apps.length ? apps.join(' + ') : 'nothing (idle)';
  };

  it('during a backup (S3 + B2)', async () => {
    await runCase('PostgreSQL connections dropped during a backup', 'fault', async () => {
      const rows = await createBackupGroup(db, { tenantId: 'pd', storageTiers: ['s3_standard', 'b2_cold'], origin: 'manual', requestedBy: 'chaos' });
      const group = rows[0]!.dumpGroup;
      const statuses = async () =>
        (await db.execute<{ status: string; attempts: number; error_message: string | null }>(sql`
          select status, attempts, error_message from backup_jobs where dump_group = ${group}::uuid`)).rows;
      await waitUntil('the backup to run', async () => (await statuses()).some((r) => r.status !== 'pending'), 60_000, 10);
      await sleep(randomInt(0, 1200));
      const dropped = await dropConnections();
      const final = await waitUntil('the backup to settle', async () => {
        const s = await statuses();
        return s.every((r) => r.status === 'completed' || r.status === 'failed') && s;
      }, 120_000, 100);
      for (const r of final) if (r.status === 'failed') assert.doesNotMatch(r.error_message ?? '', /\n\s+at /);
      await assertStoredState(db, stores, stack.config, 'pd');
      const attempts = Math.max(...final.map((r) => r.attempts));
      return `dropped ${dropped} → ${final[0]!.status}${attempts > 1 ? ` after ${attempts} attempts` : ''}`;
    });
  });

  it('during a restore (S3 / B2): the tenant is the backup or as it was, never a mix', async () => {
    const url = stack.config.DATABASE_URL;
    const backupFp = await fingerprint(url, 't_pr');
    await runCase('PostgreSQL connections dropped during a restore', 'fault', async (i) => {
      await db.execute(sql.raw(`insert into t_pr.notes values (${50_000 + i}, '\\x03')`));
      const live = await fingerprint(url, 't_pr');
      const restore = await createRestore(db, { backupId: backups[i % 2 ? 'b2_cold' : 's3_standard']!.id, mode: 'in_place', requestedBy: 'chaos' });
      const row = async () => (await db.select().from(restoreJobs).where(eq(restoreJobs.id, restore.id)))[0]!;
      await waitUntil('the restore to run', async () => (await row()).status !== 'pending', 60_000, 10);
      await sleep(randomInt(0, 800));
      const dropped = await dropConnections();
      const final = await waitUntil('the restore to settle', async () => {
        const r = await row();
        return (r.status === 'completed' || r.status === 'failed') && r;
      }, 120_000, 100);
      if (final.status === 'completed') {
        assert.deepEqual(await fingerprint(url, 't_pr'), backupFp);
        if (final.movedAsideSchema) await db.execute(sql.raw(`drop schema ${quoteIdent(final.movedAsideSchema)} cascade`));
      } else {
        assert.doesNotMatch(final.errorMessage ?? '', /\n\s+at /);
        assert.deepEqual(await fingerprint(url, 't_pr'), live, 'a failed restore leaves the tenant exactly as it was');
      }
      return `dropped ${dropped} → restore ${final.status}${final.status === 'failed' ? ' (tenant untouched)' : ''}`;
    });
  });

  it('two admins restoring the same tenant at the same instant: one wins, the other gets a conflict', async () => {
    await runCase('Two admins restore the same tenant at once (engine)', 'abuse', async (i) => {
      const b = backups[i % 2 ? 'b2_cold' : 's3_standard']!;
      const clone = `t_pr_clone_${i}`;
      const requests = [
        { backupId: b.id, mode: 'in_place' as const, requestedBy: 'admin-a' },
        i % 2 ? { backupId: b.id, mode: 'clone' as const, targetSchema: clone, requestedBy: 'admin-b' } : { backupId: b.id, mode: 'in_place' as const, requestedBy: 'admin-b' },
      ];
      const results = await Promise.allSettled(requests.map((r) => createRestore(db, r)));
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(won.length, 1, 'exactly one restore is accepted');
      assert.equal(lost.length, 1);
      assert.ok(lost[0]!.reason instanceof RestoreConflictError, String(lost[0]!.reason));
      assert.equal((lost[0]!.reason as RestoreConflictError).code, 'conflict');
      const winner = (won[0] as PromiseFulfilledResult<{ id: string }>).value;
      await waitUntil('the winner to finish', async () => {
        const [r] = await db.select().from(restoreJobs).where(eq(restoreJobs.id, winner.id));
        return r!.status === 'completed' || r!.status === 'failed';
      }, 120_000, 100);
      for (const s of (await db.execute<{ nspname: string }>(sql`select nspname from pg_namespace where nspname like 'strata\_undo\_%' or nspname like 't\_pr\_clone\_%'`)).rows) {
        await db.execute(sql.raw(`drop schema ${quoteIdent(s.nspname)} cascade`));
      }
      return `${requests[1]!.mode === 'clone' ? 'in place vs clone' : 'in place vs in place'}: one accepted, one conflict`;
    });
  });

  it('no secret in worker logs, job errors or the audit log after these runs', async () => {
    await killVictim(worker);
    const leaks = leakedSecrets({ 'worker logs': workerLogLines.join('\n'), ...(await catalogTexts(db)) }, secretsOfEnv(stack.env));
    assert.deepEqual(leaks, []);
  });
});
