// Item 8: the `strata` CLI as an operator runs it (issue 12), started through its bin like an installed
// command (node worker/bin/strata.mjs: the cached bundle, no TypeScript compiler):
// - start-up: `strata tenant list --json` from spawn to exit, answered by the running PostgreSQL,
//   measured right after the tenants are made (before the backups load the cluster);
// - `strata backup --tenant <big> --wait` with no worker up, so the job runs in the CLI's own process
//   (worker/commands/await-job.ts): from spawn to exit, against pg_dump's floor measured back to back,
//   and the peak RSS of that process against the worker's memory target. The same backup run as a
//   worker runs it (bench/child.ts, spawn to exit) alongside separates what the CLI adds from what
//   the machine's load does to the pipeline (its programs run at nice 10, the floor's pg_dump does not).
import { spawn } from 'node:child_process';
import { sql } from 'drizzle-orm';
import path from 'node:path';
import { workers } from '../lib/db/queries/workers.ts';
import { BIG, floorDump, strataBackup } from './backup.ts';
import { bottleneck, figure, median, ROOT, type Bench } from './harness.ts';
import { procStat, round, sampleRun, type RunProfile } from './proc.ts';

const BIN = path.join(ROOT, 'worker', 'bin', 'strata.mjs');
const NODE = 'node (strata CLI)';
const START_TARGET_S = 0.4;
const RATIO_TARGET = 1.6;
const RSS_TARGET_MB = 150;

interface CliRun {
  seconds: number;
  /** CPU seconds of the CLI process and the children it waited for (what this process reaped meanwhile). */
  cpuSeconds: number;
  stdout: string;
  stderr: string;
  profile?: RunProfile;
}

async function strataCli(bench: Bench, args: string[], sample: boolean): Promise<CliRun> {
  const t = performance.now();
  const reapedBefore = procStat(process.pid)!.childCpu;
  // `--cpu-prof <dir>` profiles the sampled runs (the backups), not the start-up runs.
  const prof = sample && bench.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${bench.cpuProfDir}`] : [];
  const child = spawn(process.execPath, [...prof, BIN, ...args], { cwd: ROOT, env: { ...process.env, ...bench.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const sampler = sample ? sampleRun(child.pid!, NODE, bench.servers) : null;
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const seconds = (performance.now() - t) / 1000;
  const cpuSeconds = procStat(process.pid)!.childCpu - reapedBefore;
  const profile = sampler?.stop();
  if (code !== 0) throw new Error(`strata ${args.join(' ')} exited with ${code}:\n${stderr}`);
  return { seconds, cpuSeconds, stdout, stderr, profile };
}

/** Start-up, measured first thing after the tenants are made (a quiet cluster, as an operator's command meets it). */
export async function benchCliStart(bench: Bench): Promise<void> {
  bench.log('\n== 8. The strata CLI: start-up ==');
  // The first start after a change builds the bundle (worker/cli-bundle.mjs); what is measured is a start with it built.
  const first = await strataCli(bench, ['tenant', 'list', '--json'], false);
  bench.log(`  first start (builds the bundle when a source changed): ${first.seconds.toFixed(2)} s`);

  const starts: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < (bench.quick ? 10 : 20); i++) {
    const run = await strataCli(bench, ['tenant', 'list', '--json'], false);
    if (!Array.isArray((JSON.parse(run.stdout) as { tenants?: unknown }).tenants)) throw new Error(`strata tenant list printed ${run.stdout}`);
    starts.push(run.seconds);
    cpus.push(run.cpuSeconds);
  }
  const startS = round(median(starts));
  figure(bench, {
    item: 8,
    label: 'strata tenant list (start to exit, bundle built, median)',
    value: startS,
    unit: 's',
    target: `≤ ${START_TARGET_S} s`,
    met: startS <= START_TARGET_S,
    note: `${starts.length} runs, ${round(Math.min(...starts))}–${round(Math.max(...starts))} s; ${round(median(cpus))} CPU-s each (median)`,
  });
  bench.details.cliStart = { startSeconds: starts.map((s) => round(s, 3)), startCpuSeconds: cpus.map((c) => round(c, 3)) };
}

export async function benchCliBackup(bench: Bench): Promise<void> {
  bench.log('\n== 8. The strata CLI: backup --wait ==');

  if ((await workers(bench.db)).some((w) => w.alive)) throw new Error('a worker is alive: strata backup --wait would not run the job in its own process');
  // Item 3 has just restored the big tenant: the first reads of its fresh tables set their hint bits
  // (the first floor of a rep pays for it) and autovacuum may start on them during the reps. Item 1
  // starts from a vacuumed cluster; so does this item.
  await settleCluster(bench);
  const floors: number[] = [];
  const asWorker: number[] = [];
  const clis: { seconds: number; profile: RunProfile }[] = [];
  for (let i = 0; i < bench.sizes.reps; i++) {
    const floor = await floorDump(bench, BIG.schemaName);
    floors.push(floor.seconds);
    asWorker.push((await strataBackup(bench, BIG.id, ['s3_standard'])).run.seconds);
    const run = await strataCli(bench, ['backup', '--tenant', BIG.id, '--wait'], true);
    if (!run.stderr.includes('running the job in this process')) throw new Error(`strata backup --wait did not run the job itself:\n${run.stderr}`);
    if (!/^Backup \S+ completed/m.test(run.stdout)) throw new Error(`strata backup --wait did not complete:\n${run.stdout}\n${run.stderr}`);
    clis.push({ seconds: run.seconds, profile: run.profile! });
    bench.profiles[`strata backup --wait (CLI) #${i + 1}`] = run.profile!;
    bench.log(`  rep ${i + 1}: floor ${floor.seconds.toFixed(2)} s, as a worker ${asWorker[i]!.toFixed(2)} s, strata backup --wait ${run.seconds.toFixed(2)} s, peak RSS ${run.profile!.processes[NODE]?.peakRssMb} MB`);
  }
  const floorS = round(median(floors));
  const cliS = round(median(clis.map((c) => c.seconds)));
  const ratio = round(cliS / floorS);
  const workerS = round(median(asWorker));
  const peak = Math.max(...clis.map((c) => c.profile.processes[NODE]?.peakRssMb ?? Infinity));
  bench.details.cli = { floorSeconds: floors, backupWaitSeconds: clis.map((c) => round(c.seconds)), asWorkerSeconds: asWorker };
  figure(bench, {
    item: 8,
    label: 'strata backup --wait of the big tenant, job in the CLI process (start to exit, median)',
    value: cliS,
    unit: 's',
    target: `≤ ${RATIO_TARGET}× floor (${(RATIO_TARGET * floorS).toFixed(1)} s)`,
    met: ratio <= RATIO_TARGET,
    note: `${ratio}× the floor pg_dump -Fc -Z0 > /dev/null of ${floorS} s measured alongside; ${round(cliS / workerS)}× the same backup run as a worker (${workerS} s, ${round(workerS / floorS)}× floor)`,
  });
  figure(bench, { item: 8, label: 'peak RSS node (strata CLI) during backup --wait', value: peak, unit: 'MB', target: `≤ ${RSS_TARGET_MB} MB`, met: peak <= RSS_TARGET_MB });
  const mid = [...clis].sort((a, b) => a.seconds - b.seconds)[Math.floor(clis.length / 2)]!;
  figure(bench, { item: 8, label: 'profile of the median strata backup --wait', value: null, unit: '', note: bottleneck(mid.profile) });
}

/** VACUUM ANALYZE and a CHECKPOINT: no autovacuum, hint-bit writes or dirty-page flush left to overlap what is measured next. */
async function settleCluster(bench: Bench): Promise<void> {
  const t = performance.now();
  const before = await autovacuumWorkers(bench);
  await bench.db.execute(sql`vacuum analyze`);
  await bench.db.execute(sql`checkpoint`);
  bench.log(`  cluster settled in ${((performance.now() - t) / 1000).toFixed(1)} s (autovacuum workers before: ${before}, after: ${await autovacuumWorkers(bench)})`);
}

async function autovacuumWorkers(bench: Bench): Promise<number> {
  const r = await bench.db.execute<{ n: number }>(sql`select count(*)::int as n from pg_stat_activity where backend_type = 'autovacuum worker'`);
  return r.rows[0]!.n;
}
