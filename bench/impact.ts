// Item 5: what a running backup does to the SaaS. pgbench runs a steady, rate-limited read/write
// script on another tenant; p95 latency of the transactions that finished while Strata backed up the
// big tenant, against a run with no backup.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createBackupGroup } from '../lib/backup/create.ts';
import { quoteIdent } from '../lib/db/ident.ts';
import { BIG, floorDump, pgEnv } from './backup.ts';
import { bottleneck, figure, percentile, runNodeChild, type Bench } from './harness.ts';
import { round } from './proc.ts';

export const OLTP = { id: 'bench-oltp', schemaName: 'bench_oltp' };
const PGBENCH = '/usr/lib/postgresql/15/bin/pgbench';
const CLIENTS = 4;
const RATE_TPS = 100;
/** STRATA_DUMP_MAX_RATE_MB of the rate-limited run: about a quarter of what pg_dump reads here unlimited. */
const RATE_LIMIT_MB = 40;

function script(schema: string): string {
  const s = quoteIdent(schema);
  return `\\set pid random(1, :npatients)
BEGIN;
SELECT first_name, last_name, birth_date, allergies FROM ${s}.patients WHERE id = :pid;
SELECT id, starts_at, status FROM ${s}.appointments WHERE patient_id = :pid ORDER BY starts_at DESC LIMIT 10;
INSERT INTO ${s}.appointments (patient_id, practitioner_id, starts_at, duration_minutes, status, reason)
  VALUES (:pid, 1, now() + interval '7 days', 20, 'scheduled', 'pgbench follow-up');
UPDATE ${s}.patients SET phone = phone WHERE id = :pid;
END;
`;
}

interface Txn {
  /** Completion time, epoch ms. */
  at: number;
  latencyMs: number;
}

/** pgbench -T seconds; resolves with every transaction from its per-transaction logs. */
export async function pgbench(bench: Bench, seconds: number, patients: number, tag: string): Promise<Txn[]> {
  const dir = fs.mkdtempSync(path.join(bench.dir, `pgbench-${tag}-`));
  fs.chmodSync(dir, 0o777);
  const file = path.join(dir, 'script.sql');
  fs.writeFileSync(file, script(OLTP.schemaName));
  const args = ['-n', '-f', file, '-c', String(CLIENTS), '-j', '2', '-R', String(RATE_TPS), '-T', String(seconds), '-D', `npatients=${patients}`, '-l', `--log-prefix=${path.join(dir, 'log')}`];
  const child = spawn(PGBENCH, args, { env: { ...pgEnv(bench), PGAPPNAME: 'bench-oltp' } as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
  child.stdout.on('data', () => {});
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`pgbench exited with ${code}: ${err}`);
  const txns: Txn[] = [];
  for (const f of fs.readdirSync(dir).filter((n) => n.startsWith('log'))) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      // client_id transaction_no time_us script_no time_epoch time_us_fraction [schedule_lag]
      const p = line.trim().split(/\s+/);
      if (p.length < 6) continue;
      txns.push({ at: Number(p[4]) * 1000 + Number(p[5]) / 1000, latencyMs: Number(p[2]) / 1000 });
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return txns;
}

export async function benchImpact(bench: Bench, strataSeconds: number): Promise<void> {
  bench.log('\n== 5. Production impact (pgbench on another tenant) ==');
  const patients = bench.sizes.oltpPatients;
  const baseline = await pgbench(bench, bench.sizes.pgbenchSeconds, patients, 'baseline');
  // Skip the first second of each run: connections and cold caches.
  const warm = (t: Txn[]) => {
    const start = Math.min(...t.map((x) => x.at));
    return t.filter((x) => x.at >= start + 1000);
  };
  const base = warm(baseline).map((t) => t.latencyMs);

  /** pgbench while `work` (expected to take about `seconds`) runs: the latencies of the transactions that ended in its window. */
  const under = async (tag: string, work: () => Promise<{ from: number; to: number }>, seconds = strataSeconds) => {
    const load = pgbench(bench, Math.ceil(seconds * 1.6) + 8, patients, tag);
    await new Promise((r) => setTimeout(r, 3000));
    const { from, to } = await work();
    const txns = await load;
    if (to > Math.max(...txns.map((t) => t.at))) bench.log(`  note: the ${tag} outlasted pgbench; only the overlap counts`);
    return { from, to, latencies: txns.filter((t) => t.at >= from && t.at <= to).map((t) => t.latencyMs) };
  };
  /** One Strata backup of the big tenant to S3, in its own node process; its window is the child's own. */
  const backup = async (profile: string, extraEnv: Record<string, string> = {}) => {
    const [row] = await createBackupGroup(bench.db, { tenantId: BIG.id, storageTiers: ['s3_standard'], origin: 'manual', requestedBy: 'bench' });
    const run = await runNodeChild(bench, ['backup', row!.dumpGroup], extraEnv);
    bench.profiles[profile] = run.profile;
    return { from: Number(run.out.startedAt), to: Number(run.out.endedAt) };
  };
  // What reading the dump costs by itself on this host: the same load during a bare pg_dump.
  const { latencies: bare } = await under('floor', async () => {
    const from = Date.now();
    await floorDump(bench, BIG.schemaName);
    return { from, to: Date.now() };
  });
  const { from, to, latencies: inWindow } = await under('backup', () => backup('strata backup S3 under pgbench'));
  // The knob that bounds it: the same backup with pg_dump's reads held to STRATA_DUMP_MAX_RATE_MB.
  const dumpMb = Number((bench.details.backup as { rawDumpMb?: number } | undefined)?.rawDumpMb ?? 1000);
  const limited = await under(
    'limited',
    () => backup(`strata backup S3 under pgbench, STRATA_DUMP_MAX_RATE_MB=${RATE_LIMIT_MB}`, { STRATA_DUMP_MAX_RATE_MB: String(RATE_LIMIT_MB) }),
    dumpMb / RATE_LIMIT_MB + 3,
  );
  const inLimited = limited.latencies;

  const p95Base = round(percentile(base, 95));
  const p95During = round(percentile(inWindow, 95));
  const p95Bare = round(percentile(bare, 95));
  const p95Limited = round(percentile(inLimited, 95));
  /** p95 against the baseline, in whole per cent, and how the notes print it. */
  const vsBase = (p95: number) => round(((p95 - p95Base) / p95Base) * 100, 0);
  const signed = (pct: number) => `${pct >= 0 ? '+' : ''}${pct}%`;
  const increase = vsBase(p95During);
  const limitedIncrease = vsBase(p95Limited);
  const limitedSeconds = round((limited.to - limited.from) / 1000, 1);
  bench.details.impact = {
    clients: CLIENTS,
    rateTps: RATE_TPS,
    baseline: { transactions: base.length, p50: round(percentile(base, 50)), p95: p95Base, p99: round(percentile(base, 99)) },
    duringBarePgDump: { transactions: bare.length, p50: round(percentile(bare, 50)), p95: p95Bare },
    duringBackup: { transactions: inWindow.length, p50: round(percentile(inWindow, 50)), p95: p95During, p99: round(percentile(inWindow, 99)), backupSeconds: round((to - from) / 1000) },
    duringLimitedBackup: { rateLimitMb: RATE_LIMIT_MB, transactions: inLimited.length, p50: round(percentile(inLimited, 50)), p95: p95Limited, backupSeconds: limitedSeconds },
  };
  figure(bench, { item: 5, label: `pgbench p95 latency, no backup (${CLIENTS} clients, ${RATE_TPS} tps)`, value: p95Base, unit: 'ms', note: `p50 ${round(percentile(base, 50))} ms, ${base.length} txns` });
  figure(bench, {
    item: 5,
    label: 'pgbench p95 latency during a Strata backup of the big tenant',
    value: p95During,
    unit: 'ms',
    target: '≤ +25%',
    met: increase <= 25,
    note: `${signed(increase)}, p50 ${round(percentile(inWindow, 50))} ms, ${inWindow.length} txns in ${round((to - from) / 1000, 1)} s`,
  });
  figure(bench, {
    item: 5,
    label: 'pgbench p95 latency during a bare pg_dump -Fc -Z0 > /dev/null of the big tenant (reading the dump alone)',
    value: p95Bare,
    unit: 'ms',
    note: `${signed(vsBase(p95Bare))}, p50 ${round(percentile(bare, 50))} ms, ${bare.length} txns`,
  });
  figure(bench, {
    item: 5,
    label: `pgbench p95 latency during the same backup with STRATA_DUMP_MAX_RATE_MB=${RATE_LIMIT_MB}`,
    value: p95Limited,
    unit: 'ms',
    target: '≤ +25%',
    met: limitedIncrease <= 25,
    note: `${signed(limitedIncrease)}, p50 ${round(percentile(inLimited, 50))} ms, ${inLimited.length} txns; the backup took ${limitedSeconds} s (${round(dumpMb / limitedSeconds, 0)} MB/s of raw dump)`,
  });
  if (increase > 25) figure(bench, { item: 5, label: 'profile of the backup under load', value: null, unit: '', note: bottleneck(bench.profiles['strata backup S3 under pgbench']!) });
}
