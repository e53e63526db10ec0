// Item 6: the tenant history with a large catalog. Catalog rows are inserted with SQL (half of them
// for one tenant, the rest spread over the fleet); the query functions the dashboard and API call are
// timed in process, the tenant page over HTTP against `next start` with a signed-in session.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { createUser } from '../lib/auth/users.ts';
import { backupHistory, backupsAfter } from '../lib/db/queries/backups.ts';
import { freePort } from '../lib/services/postgres.ts';
import { tenantProtection } from '../lib/tenants/protection.ts';
import { createDemoTenant } from '../lib/testing/tenant-data.ts';
import { figure, percentile, ROOT, type Bench } from './harness.ts';
import { round } from './proc.ts';

const HIST = { id: 'bench-history', schemaName: 'bench_history' };
const P95_TARGET_MS = 150;
const USER = { email: 'bench@strata.test', password: 'bench-password-123' };

export async function fillCatalog(bench: Bench): Promise<void> {
  const rows = bench.sizes.catalogRows;
  const fleet = bench.sizes.fleetTenants;
  await createDemoTenant(bench.db, { ...HIST, name: 'History Clinic', plan: 'premium', patients: 10 });
  // One backup every 30 minutes back in time for the measured tenant; 1 in 40 failed, the tiers and
  // origins in the proportions a premium plan produces.
  await bench.db.execute(sql`
    insert into backup_jobs (tenant_id, tier_id, storage_tier, origin, status, backup_size_bytes, dump_size_bytes, backup_location,
      sha256_stored, sha256_dump, created_at, started_at, completed_at, expires_at, error_message, requested_by, attempts)
    select case when i % 2 = 0 then ${HIST.id} else 'fleet-' || lpad((1 + (i / 2) % ${fleet}::int)::text, 4, '0') end,
      'premium',
      (array['s3_standard','s3_standard','s3_ia','b2_cold'])[1 + i % 4],
      (array['daily','daily','weekly','monthly','manual'])[1 + i % 5],
      case when i % 40 = 0 then 'failed' else 'completed' end,
      case when i % 40 = 0 then null else 1000000 + (i * 7919) % 50000000 end,
      case when i % 40 = 0 then null else 5000000 + (i * 7919) % 200000000 end,
      case when i % 40 = 0 then null else 's3://strata-backups/bench/' || i || '/dump.zst.age' end,
      case when i % 40 = 0 then null else md5(i::text) || md5((i + 1)::text) end,
      case when i % 40 = 0 then null else md5((i + 2)::text) || md5((i + 3)::text) end,
      now() - make_interval(mins => 15 * i),
      now() - make_interval(mins => 15 * i) + interval '2 seconds',
      now() - make_interval(mins => 15 * i) + interval '40 seconds',
      now() - make_interval(mins => 15 * i) + interval '35 days',
      case when i % 40 = 0 then 'pg_dump exited with 1: connection refused' end,
      'bench-catalog', 1
    from generate_series(1, ${rows}::int) i`);
  // A catalog this size grows over months with autovacuum keeping up: measure that steady state
  // (visibility map set, so index-only scans need no heap visits), not the minute after a bulk insert.
  // The bench cluster commits asynchronously (synchronous_commit=off): until the walwriter has flushed
  // the insert's commit, VACUUM cannot set the rows' hint bits nor mark their pages all-visible, so it
  // waits a second and tries again.
  let vm = { pages: 0, visible: 0 };
  for (let i = 0; i < 5; i++) {
    await bench.db.execute(sql`vacuum analyze backup_jobs`);
    vm = (await bench.db.execute<typeof vm>(sql`select relpages as pages, relallvisible as visible from pg_class where relname = 'backup_jobs'`)).rows[0]!;
    if (vm.visible >= vm.pages * 0.99) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  bench.log(`  note: after 5 VACUUMs only ${vm.visible} of ${vm.pages} backup_jobs pages are all-visible; index-only scans visit the heap`);
}

async function timeIt(runs: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 5; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

function report(bench: Bench, label: string, times: number[]): void {
  const p50 = round(percentile(times, 50), 1);
  const p95 = round(percentile(times, 95), 1);
  figure(bench, { item: 6, label: `${label} p95`, value: p95, unit: 'ms', target: `≤ ${P95_TARGET_MS} ms`, met: p95 <= P95_TARGET_MS, note: `p50 ${p50} ms, ${times.length} runs` });
}

async function waitFor(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within 60 s`);
}

/** Auth.js credentials sign-in, the way the sign-in form does it; returns the Cookie header. */
async function signIn(base: string): Promise<string> {
  const csrfRes = await fetch(`${base}/api/auth/csrf`);
  const { csrfToken } = (await csrfRes.json()) as { csrfToken: string };
  const cookies = new Map<string, string>();
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
  };
  keep(csrfRes);
  const cookieHeader = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const res = await fetch(`${base}/api/auth/callback/credentials`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader() },
    body: new URLSearchParams({ email: USER.email, password: USER.password, csrfToken, callbackUrl: `${base}/` }),
  });
  keep(res);
  if (![...cookies.keys()].some((k) => k.includes('session-token'))) throw new Error(`sign-in failed: ${res.status}`);
  return cookieHeader();
}

export async function benchDashboard(bench: Bench): Promise<void> {
  bench.log('\n== 6. Dashboard with a large catalog ==');
  await fillCatalog(bench);
  const total = await bench.db.execute<{ n: number; t: number }>(sql`select count(*)::int as n, count(*) filter (where tenant_id = ${HIST.id})::int as t from backup_jobs`);
  const { n, t } = total.rows[0]!;
  bench.log(`  catalog: ${n} backup rows, ${t} of them for ${HIST.id}`);
  bench.details.dashboard = { catalogRows: n, tenantRows: t };
  const runs = bench.quick ? 100 : 200;
  report(bench, `backupHistory (page 1, count) with ${t} tenant rows / ${n} catalog`, await timeIt(runs, () => backupHistory(bench.db, HIST.id, {}, 1)));
  report(bench, 'backupHistory filtered status=failed', await timeIt(runs, () => backupHistory(bench.db, HIST.id, { status: 'failed' }, 1)));
  const deep = Math.floor(t / 20 / 2);
  report(bench, `backupHistory deep page ${deep}`, await timeIt(runs, () => backupHistory(bench.db, HIST.id, {}, deep)));
  report(bench, 'backupsAfter (API list, 50 rows)', await timeIt(runs, () => backupsAfter(bench.db, HIST.id, 50, null)));
  // The page also asks for the tenant's protection figures (and an admin's restore dialog lists the others).
  report(bench, 'tenantProtection, one tenant', await timeIt(Math.min(runs, 50), () => tenantProtection(bench.db, bench.config, { tenantId: HIST.id })));
  report(bench, `tenantProtection, every tenant`, await timeIt(Math.min(runs, 20), () => tenantProtection(bench.db, bench.config)));

  if (!fs.existsSync(path.join(ROOT, '.next', 'BUILD_ID'))) {
    figure(bench, { item: 6, label: 'tenant page', value: null, unit: 'ms', note: 'skipped: no Next build (.next/BUILD_ID); run `npx next build` first' });
    return;
  }
  const buildId = path.join(ROOT, '.next', 'BUILD_ID');
  bench.details.nextBuild = { id: fs.readFileSync(buildId, 'utf8').trim(), builtAt: fs.statSync(buildId).mtime.toISOString() };
  await createUser(bench.db, { ...USER, role: 'admin' }).catch(() => {});
  const port = await freePort();
  const base = `http://localhost:${port}`;
  const log = fs.openSync(path.join(bench.dir, 'next.log'), 'a');
  const next = spawn(process.execPath, ['node_modules/next/dist/bin/next', 'start', '-p', String(port)], {
    cwd: ROOT,
    env: { ...process.env, ...bench.env, AUTH_URL: base, NODE_ENV: 'production' },
    stdio: ['ignore', log, log],
  });
  try {
    await waitFor(`${base}/api/openapi.json`, next);
    const cookie = await signIn(base);
    const page = (q: string) => async () => {
      const res = await fetch(`${base}/tenants/${HIST.id}${q}`, { headers: { cookie }, redirect: 'manual' });
      const body = await res.text();
      if (res.status !== 200) throw new Error(`tenant page answered ${res.status}`);
      return body;
    };
    const pageRuns = bench.quick ? 40 : 100;
    const bodyKb = Math.round((await page('')()).length / 1024);
    bench.details.tenantPageKb = bodyKb;
    bench.log(`  tenant page body: ${bodyKb} KB`);
    report(bench, 'tenant page /tenants/[id] (HTTP, full body)', await timeIt(pageRuns, page('')));
    report(bench, `tenant page, page ${deep}`, await timeIt(pageRuns, page(`?page=${deep}`)));
    report(bench, 'tenant page, status=failed', await timeIt(pageRuns, page('?status=failed')));
  } finally {
    next.kill('SIGTERM');
    await new Promise((r) => (next.exitCode !== null ? r(null) : next.once('exit', r)));
    fs.closeSync(log);
  }
}
