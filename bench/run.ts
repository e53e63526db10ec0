// `npm run bench [-- --quick] [-- --only 1,3] [-- --cpu-prof DIR]`: Strata's speed and footprint against its targets
// (issue 6), measured on this machine in one run. Starts a private PostgreSQL cluster, s3rver and the
// B2 server in a temp dir, generates the tenants, runs every item, writes bench/results.json and
// bench/results.md, and tears everything down. Never part of `npm test`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { closeDb, getDb } from '../lib/db/client.ts';
import { runMigrations } from '../lib/db/migrate.ts';
import { parseConfig } from '../lib/env.ts';
import { startLocalServices } from '../lib/services/local.ts';
import { createDemoTenant } from '../lib/testing/tenant-data.ts';
import { benchBackup, BIG, SMALL } from './backup.ts';
import { benchCliBackup, benchCliStart } from './cli.ts';
import { benchDashboard } from './dashboard.ts';
import { benchFleet, createFleet } from './fleet.ts';
import { ROOT, type Bench, type Sizes } from './harness.ts';
import { benchImpact, OLTP } from './impact.ts';
import { benchLargeSchema } from './large-schema.ts';
import { benchIncremental } from './incremental.ts';
import { benchFiles } from './files.ts';
import { findChildByCmdline, procStat, selfCpu, treeCpu } from './proc.ts';
import { writeResults } from './report.ts';
import { benchRestore } from './restore.ts';

// ~500 bytes of raw dump per patient (lib/testing/tenant-data.ts).
const FULL: Sizes = { bigPatients: 2_100_000, smallPatients: 525_000, oltpPatients: 100_000, fleetTenants: 500, fleetPatients: 40, catalogRows: 100_000, reps: 3, pgbenchSeconds: 20 };
const QUICK: Sizes = { bigPatients: 210_000, smallPatients: 52_000, oltpPatients: 20_000, fleetTenants: 50, fleetPatients: 40, catalogRows: 10_000, reps: 2, pgbenchSeconds: 10 };

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args[args.indexOf('--only') + 1];
const only = args.includes('--only') && onlyArg ? new Set(onlyArg.split(',').map(Number)) : null;
const profArg = args[args.indexOf('--cpu-prof') + 1];
const cpuProfDir = args.includes('--cpu-prof') && profArg ? path.resolve(profArg) : undefined;
const wants = (item: number) => !only || only.has(item);
const sizes = quick ? QUICK : FULL;

const log = (msg: string) => console.log(msg);
const started = new Date();
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
log(`strata bench (${quick ? 'quick' : 'full'}) — ${os.cpus().length} CPUs, load ${load()}, ${started.toISOString()}`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-'));
const services = await startLocalServices({ dir, log });
const env = { ...services.env };
const config = parseConfig(env);
const db = getDb(config.DATABASE_URL);
try {
  await runMigrations(db);
  const backendPid = (await db.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`)).rows[0]!.pid;
  const postmaster = procStat(backendPid)!.ppid;
  const s3rver = findChildByCmdline('s3rver-main');
  const bench: Bench = {
    quick,
    sizes,
    dir,
    env,
    config,
    db,
    servers: [
      { name: 'postgres (server)', cpu: () => treeCpu(postmaster) },
      ...(s3rver ? [{ name: 's3rver', cpu: () => treeCpu(s3rver) }] : []),
      { name: 'bench (B2 server)', cpu: selfCpu },
    ],
    figures: [],
    profiles: {},
    details: { sizes, loadAtStart: load() },
    log,
    cpuProfDir,
  };

  const t = performance.now();
  if (wants(1) || wants(2) || wants(3) || wants(5) || wants(7) || wants(8) || wants(10)) {
    await createDemoTenant(db, { ...BIG, name: 'Bench Big Clinic', plan: 'premium', patients: sizes.bigPatients });
    log(`big tenant (${sizes.bigPatients} patients) created in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  // benchBackup (items 1, 2 and 7, and the backup items 3 and 5 start from) measures both tenants.
  if (wants(1) || wants(2) || wants(3) || wants(5) || wants(7)) await createDemoTenant(db, { ...SMALL, name: 'Bench Small Clinic', plan: 'premium', patients: sizes.smallPatients });
  if (wants(5)) await createDemoTenant(db, { ...OLTP, name: 'Bench OLTP Clinic', plan: 'premium', patients: sizes.oltpPatients });
  await db.execute(sql`vacuum analyze`);
  if (wants(8)) await benchCliStart(bench);

  let backupId: string | undefined;
  let strataSeconds = 10;
  if (wants(1) || wants(2) || wants(7) || wants(3) || wants(5)) {
    const r = await benchBackup(bench);
    backupId = r.lastS3Backup.backupId;
    strataSeconds = r.strataSeconds;
  }
  if (wants(5)) await benchImpact(bench, strataSeconds);
  if (wants(3) && backupId) await benchRestore(bench, backupId);
  if (wants(8)) await benchCliBackup(bench);
  if (wants(4) || wants(6)) await createFleet(bench);
  if (wants(4)) await benchFleet(bench);
  if (wants(6)) await benchDashboard(bench);
  if (wants(9)) await benchLargeSchema(bench);
  if (wants(11)) await benchFiles(bench);
  // Last: it changes the big tenant.
  if (wants(10)) await benchIncremental(bench);

  bench.details.loadAtEnd = load();
  bench.details.totalMinutes = Math.round((Date.now() - started.getTime()) / 600) / 100;
  // A partial run (--only) never replaces the committed results.
  const out = only ? dir : path.join(ROOT, 'bench');
  const { json, md } = writeResults(bench, started, out);
  if (only) log(`\n${fs.readFileSync(md, 'utf8')}\n(--only: results not written to bench/)`);
  else log(`\nwrote ${path.relative(ROOT, json)} and ${path.relative(ROOT, md)}`);
  const missed = bench.figures.filter((f) => f.met === false);
  log(missed.length === 0 ? 'every target met' : `${missed.length} target(s) missed: ${missed.map((f) => `[${f.item}] ${f.label}`).join('; ')}`);
} finally {
  await closeDb();
  await services.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
