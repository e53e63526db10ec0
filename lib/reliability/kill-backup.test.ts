// Fault: SIGKILL of a worker process at a random point of a backup (one dump stored in S3 and B2)
// and of a prune (deleting from S3 and B2). Afterwards another worker (or the next prune) settles
// everything: each job completed or cleanly failed, exactly one stored copy per completed backup,
// no object of an unfinished backup visible, no unfinished B2 large file, no half-deleted backup
// that still looks whole.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { createBackupGroup } from '../backup/create.ts';
import { backupKey } from '../backup/manifest.ts';
import { runBackupGroup } from '../backup/run-backup.ts';
import { listKeys } from '../backup/test-support.ts';
import type { Db } from '../db/client.ts';
import { addTinyTenants } from '../jobs/test-support.ts';
import { runPrune } from '../prune/run-prune.ts';
import { createStores, type Stores } from '../storage/registry.ts';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import { setB2Latency } from '../../worker/test-support.ts';
import { assertStoredState, catalogTexts, leakedSecrets, randomInt, runCase, secretsOfEnv, sleep, waitUntil } from './harness.ts';
import { FAST_WORKER_ENV, killVictim, rescue, startVictim, workerLogLines } from './workers.ts';

describe('SIGKILL of a worker during a backup and a prune (S3 and B2)', () => {
  let stack: TestStack;
  let db: Db;
  let stores: Stores;
  before(async () => {
    stack = await startTestStack({ B2_PART_SIZE_MB: '5', S3_PART_SIZE_MB: '5', ...FAST_WORKER_ENV });
    db = stack.db;
    stores = createStores(stack.config);
  });
  after(async () => {
    await stack?.stop();
  });
  const statuses = async (group: string) =>
    (await db.execute<{ status: string }>(sql`select status from backup_jobs where dump_group = ${group}::uuid order by storage_tier`)).rows.map((r) => r.status);

  it('backup: killed at a random point, rescued by another worker', async () => {
    // ~6 MB of incompressible rows: an S3 multipart upload and a B2 large file (5 MB parts).
    await addTinyTenants(db, ['kb'], { plan: 'basic', rows: 1500, rowBytes: 4096 });
    // How long an undisturbed backup of both tiers takes: the kill lands anywhere in [0, 1.2 × that].
    const t0 = Date.now();
    const [calib] = await createBackupGroup(db, { tenantId: 'kb', storageTiers: ['s3_standard', 'b2_cold'], origin: 'manual', requestedBy: 'chaos' });
    await runBackupGroup({ db, config: stack.config, stores }, calib!.dumpGroup);
    const duration = Date.now() - t0;

    await runCase('SIGKILL during a backup (S3 + B2)', 'fault', async (i) => {
      const [row] = await createBackupGroup(db, { tenantId: 'kb', storageTiers: ['s3_standard', 'b2_cold'], origin: 'manual', requestedBy: 'chaos' });
      const group = row!.dumpGroup;
      await setB2Latency(stack.config, randomInt(0, 60));
      const victim = startVictim(stack.env, `kb-victim-${i}`);
      try {
        await waitUntil('the backup to start', async () => (await statuses(group)).some((s) => s !== 'pending'), 60_000, 20);
        await sleep(randomInt(0, Math.round(duration * 1.2)));
      } finally {
        await killVictim(victim);
      }
      const atKill = await statuses(group);
      await setB2Latency(stack.config, 0);
      await rescue(stack.config, `kb-rescuer-${i}`, async () => (await statuses(group)).every((s) => s === 'completed' || s === 'failed'));
      const final = await statuses(group);
      await assertStoredState(db, stores, stack.config, 'kb');
      if (atKill.every((s) => s === 'completed')) return 'finished before the kill';
      return `killed mid-backup → ${[...new Set(final)].join('+')} after rescue`;
    });
  });

  it('prune: killed at a random point, finished by the next prune', async () => {
    await addTinyTenants(db, ['kp'], { plan: 'basic', rows: 3 });
    const DAY = 86_400_000;
    const fake = async (tier: 's3_standard' | 'b2_cold', ageDays: number, expired: boolean) => {
      const id = randomUUID();
      const store = stores.forTier(tier);
      const startedAt = new Date(Math.floor((Date.now() - ageDays * DAY) / 1000) * 1000);
      const prefix = backupKey('kp', startedAt, id);
      const body = Buffer.from(`dump of ${id}`);
      await store.put(`${prefix}dump.zst.age`, body);
      await store.put(`${prefix}manifest.json.sig`, Buffer.alloc(64));
      await store.put(`${prefix}manifest.json`, Buffer.from('{}'));
      await db.execute(sql`
        insert into backup_jobs (id, tenant_id, tier_id, storage_tier, origin, status, started_at, completed_at, expires_at, backup_location, backup_size_bytes)
        values (${id}::uuid, 'kp', 'basic', ${tier}, 'manual', 'completed', ${startedAt}, ${new Date(startedAt.getTime() + 60_000)},
          ${new Date(Date.now() + (expired ? -DAY : 30 * DAY))}, ${store.location(`${prefix}dump.zst.age`)}, ${body.length})`);
      return { id, prefix, tier };
    };

    await runCase('SIGKILL during a prune (S3 + B2)', 'fault', async (i) => {
      const backups = [];
      for (let k = 0; k < 10; k++) backups.push(await fake(k % 2 ? 'b2_cold' : 's3_standard', 40 + k, true));
      backups.push(await fake('s3_standard', 1, false)); // the newest stays whatever happens
      // Prune runs once an hour per cluster: forget the last run so the victim's maintenance does it now.
      await db.execute(sql`delete from periodic_runs where task = 'prune'`);
      await setB2Latency(stack.config, randomInt(10, 40));
      const victim = startVictim(stack.env, `kp-victim-${i}`);
      let phase: string;
      try {
        await waitUntil('the worker to start', async () => victim.logs.some((l) => l.msg === 'worker started'), 60_000, 20);
        await sleep(randomInt(0, 1500));
      } finally {
        await killVictim(victim);
      }
      await setB2Latency(stack.config, 0);
      // Right after the kill: anything not whole must have been recorded as a decided delete first.
      const rows = (
        await db.execute<{ id: string; status: string; decided: boolean }>(sql`
          select id::text, status, delete_decided_at is not null as decided from backup_jobs where tenant_id = 'kp'`)
      ).rows;
      const byId = new Map(rows.map((r) => [r.id, r]));
      let touched = 0;
      for (const b of backups) {
        const keys = await listKeys(stores.forTier(b.tier), b.prefix);
        const r = byId.get(b.id)!;
        if (keys.length < 2) {
          touched++;
          assert.ok(r.decided || r.status === 'deleted', `backup ${b.id} lost objects (${keys.length} left) without a recorded delete`);
        }
        if (r.status === 'deleted') assert.deepEqual(keys, [], `deleted backup ${b.id} still has objects`);
      }
      const decided = rows.filter((r) => r.decided).length;
      const deleted = rows.filter((r) => r.status === 'deleted').length;
      if (decided === 0) phase = 'killed before prune recorded anything';
      else if (deleted === 10) phase = 'prune finished before the kill';
      else if (touched === 0 && deleted === 0) phase = 'killed after recording, before deleting';
      else phase = 'killed while deleting';

      // The next prune (what the following day's run does) finishes what was recorded.
      const r = await runPrune({ db, config: stack.config, stores }, { dryRun: false });
      assert.deepEqual(r.failed, []);
      const after = (await db.execute<{ id: string; status: string }>(sql`select id::text, status from backup_jobs where tenant_id = 'kp'`)).rows;
      const st = new Map(after.map((x) => [x.id, x.status]));
      for (const b of backups.slice(0, 10)) assert.equal(st.get(b.id), 'deleted', `expired backup ${b.id}`);
      assert.equal(st.get(backups[10]!.id), 'completed', 'the newest backup is kept');
      await assertStoredState(db, stores, stack.config, 'kp');
      return phase;
    });
  });

  it('no secret in worker logs, job errors or the audit log after these runs', async () => {
    const leaks = leakedSecrets({ 'worker logs': workerLogLines.join('\n'), ...(await catalogTexts(db)) }, secretsOfEnv(stack.env));
    assert.deepEqual(leaks, []);
  });
});
