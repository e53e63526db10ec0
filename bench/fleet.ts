// Item 4: many small tenants through two real worker processes (worker/worker-main.ts, default
// concurrency and dump limit). Per-backup overhead = the fleet's time per backup per dump slot minus
// pg_dump's own time per dump with the same two dumps at a time.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { createBackupGroup } from '../lib/backup/create.ts';
import { exactSchemaPattern } from '../lib/backup/dump.ts';
import { reconcileSchedules } from '../lib/scheduler/reconcile.ts';
import { createDemoTenant } from '../lib/testing/tenant-data.ts';
import { pgDumpPath, pgEnv } from './backup.ts';
import { figure, runCommand, ROOT, type Bench } from './harness.ts';
import { procStat, round } from './proc.ts';
import { workerNodeArgs } from '../worker/launch.ts';

const OVERHEAD_TARGET_MS = 300;
const WORKERS = 2;

export const fleetTenant = (i: number) => ({ id: `fleet-${String(i).padStart(4, '0')}`, schemaName: `fleet_${String(i).padStart(4, '0')}` });

async function inLanes<T>(items: T[], lanes: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

export async function createFleet(bench: Bench): Promise<void> {
  const t = performance.now();
  const ids = Array.from({ length: bench.sizes.fleetTenants }, (_, i) => i + 1);
  await inLanes(ids, 4, (i) => createDemoTenant(bench.db, { ...fleetTenant(i), name: `Fleet clinic ${i}`, plan: 'basic', patients: bench.sizes.fleetPatients }));
  bench.log(`  ${ids.length} fleet tenants of ${bench.sizes.fleetPatients} patients created in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

function startWorker(bench: Bench, n: number): ChildProcess {
  const log = fs.openSync(path.join(bench.dir, `worker-${n}.log`), 'a');
  return spawn(process.execPath, workerNodeArgs(), {
    cwd: ROOT,
    // Drills would verify the big tenant's newest backup in the middle of the fleet: off for the bench.
    env: { ...process.env, ...bench.env, STRATA_WORKER_ID: `bench-worker-${n}`, STRATA_DRILL_SAMPLE: '0' },
    stdio: ['ignore', log, log],
  });
}

function stopWorker(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function benchFleet(bench: Bench): Promise<void> {
  bench.log('\n== 4. Fleet through 2 workers ==');
  const n = bench.sizes.fleetTenants;
  const tenants = Array.from({ length: n }, (_, i) => fleetTenant(i + 1));

  // The floor: pg_dump alone for (a sample of) the same tenants, two at a time like the dump limit.
  const sample = tenants.slice(0, Math.min(n, 200));
  const tf = performance.now();
  const dumpSeconds: number[] = [];
  await inLanes(sample, 2, async (t) => {
    const r = await runCommand(bench, pgDumpPath(), ['-Fc', '-Z0', '--strict-names', '-n', exactSchemaPattern(t.schemaName)], { env: pgEnv(bench), sample: false });
    dumpSeconds.push(r.seconds);
  });
  const floorLaneMs = (((performance.now() - tf) / sample.length) * 2);

  // Schedules exist before the workers start and are paused, so only the bench's groups run.
  await reconcileSchedules(bench.db, bench.config);
  await bench.db.execute(sql`update backup_schedules set is_paused = true`);
  await bench.db.execute(sql`delete from worker_heartbeats`);
  const workers = Array.from({ length: WORKERS }, (_, i) => startWorker(bench, i + 1));
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await bench.db.execute<{ n: number }>(sql`select count(*)::int as n from worker_heartbeats where stopped_at is null`);
      if (r.rows[0]!.n >= WORKERS) break;
      if (Date.now() > deadline) throw new Error('the bench workers did not start within 60 s');
      await new Promise((res) => setTimeout(res, 100));
    }
    const start = performance.now();
    // CPU per role: the workers' node, the programs they spawned (reaped: cutime), the servers.
    const cpuOf = () => ({
      workerNode: workers.reduce((a, w) => a + (procStat(w.pid!)?.cpu ?? 0), 0),
      workerChildren: workers.reduce((a, w) => a + (procStat(w.pid!)?.childCpu ?? 0), 0),
      ...Object.fromEntries(bench.servers.map((g) => [g.name, g.cpu()])),
    });
    const cpuBefore = cpuOf();
    const groups: string[] = [];
    for (const t of tenants) {
      const [row] = await createBackupGroup(bench.db, { tenantId: t.id, storageTiers: ['s3_standard'], origin: 'manual', requestedBy: 'bench-fleet' });
      groups.push(row!.dumpGroup);
    }
    let done = 0;
    let failed = 0;
    for (;;) {
      const r = await bench.db.execute<{ done: number; failed: number }>(sql`select count(*) filter (where status = 'completed')::int as done,
        count(*) filter (where status = 'failed')::int as failed from backup_jobs where requested_by = 'bench-fleet'`);
      done = r.rows[0]!.done;
      failed = r.rows[0]!.failed;
      if (done + failed >= n) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    const totalS = (performance.now() - start) / 1000;
    const cpuAfter = cpuOf() as Record<string, number>;
    const cpu = Object.fromEntries(Object.entries(cpuBefore).map(([k, v]) => [k, round(cpuAfter[k]! - (v as number), 1)]));
    const laneMs = ((totalS * 1000) / n) * 2;
    const overheadMs = round(laneMs - floorLaneMs, 0);
    const other = await bench.db.execute<{ n: number }>(sql`select count(*)::int as n from backup_jobs where requested_by <> 'bench-fleet' and created_at >= now() - make_interval(secs => ${Math.ceil(totalS) + 5})`);
    bench.details.fleet = { tenants: n, workers: WORKERS, failed, pgDumpSampleMedianS: round(dumpSeconds.sort((a, b) => a - b)[Math.floor(dumpSeconds.length / 2)]!), otherBackupsDuringRun: other.rows[0]!.n, cpuSeconds: cpu };
    figure(bench, { item: 4, label: `${n} small tenants through ${WORKERS} workers: total`, value: round(totalS, 1), unit: 's', note: `${failed} failed; ${round(n / totalS, 1)} backups/s` });
    figure(bench, { item: 4, label: 'pg_dump alone per tenant (2 at a time, per slot)', value: round(floorLaneMs, 0), unit: 'ms' });
    figure(bench, {
      item: 4,
      label: 'per-backup overhead beyond pg_dump',
      value: overheadMs,
      unit: 'ms',
      target: `≤ ${OVERHEAD_TARGET_MS} ms`,
      met: overheadMs <= OVERHEAD_TARGET_MS && failed === 0,
      note: `${round(laneMs, 0)} ms per backup per slot against ${round(floorLaneMs, 0)} ms for pg_dump`,
    });
    const cpuText = Object.entries(cpu).map(([k, v]) => `${k} ${v} s (${Math.round((100 * v) / totalS)}% of a core)`).join(', ');
    figure(bench, { item: 4, label: 'fleet CPU profile', value: null, unit: '', note: `${round(totalS, 1)} s wall: ${cpuText}` });
  } finally {
    for (const w of workers) await stopWorker(w);
  }
}
