// `npm run demo`: local PostgreSQL + S3 + B2 servers, demo tenants with real backups, then the
// dashboard and a worker. Ctrl-C stops everything. State stays in .strata/ (delete it to start over).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { closeDb, getDb } from '../lib/db/client.ts';
import { runMigrations } from '../lib/db/migrate.ts';
import { DEMO_USERS, seedDemoData, seedUsers } from '../lib/demo/seed.ts';
import { parseConfig } from '../lib/env.ts';
import { freePort, portIsFree } from '../lib/services/postgres.ts';
import { startLocalServices, writeEnvFile } from '../lib/services/local.ts';
import { createStores } from '../lib/storage/registry.ts';
import { workerNodeArgs } from '../worker/launch.ts';

const log = (m: string) => process.stdout.write(`${m}\n`);
const dir = path.resolve('.strata');

log('Starting local PostgreSQL, S3 (s3rver) and B2 servers …');
const services = await startLocalServices({ dir, persistentPostgres: true, databaseUrl: process.env.DATABASE_URL || undefined });
writeEnvFile(path.join(dir, 'local.env'), services.env);
const children: ChildProcess[] = [];
let stopping = false;

async function shutdown(code: number): Promise<never> {
  if (stopping) return new Promise<never>(() => {});
  stopping = true;
  log('\nStopping the dashboard, the worker and the local servers …');
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const t = setTimeout(() => c.kill('SIGKILL'), 35_000);
          c.once('exit', () => (clearTimeout(t), resolve()));
          c.kill('SIGTERM');
        }),
    ),
  );
  await closeDb().catch(() => {});
  await services.stop();
  process.exit(code);
}
process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));

try {
  const config = parseConfig(services.env);
  const db = getDb(config.DATABASE_URL);
  await runMigrations(db);
  log('Seeding the demo (plans, users, tenants) …');
  await seedUsers(db, log);
  await seedDemoData({ db, config, stores: createStores(config) }, log);
  await closeDb();

  const env = { ...process.env, ...services.env, NODE_ENV: 'production' } as NodeJS.ProcessEnv;
  log('Building the dashboard (next build) …');
  const build = spawnSync(process.execPath, ['node_modules/next/dist/bin/next', 'build'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  if (build.status !== 0) throw new Error('next build failed (see above)');

  const wanted = Number(process.env.PORT) || 3000;
  const webPort = (await portIsFree(wanted)) ? wanted : await freePort();
  const url = `http://localhost:${webPort}`;
  const logFile = (name: string) => fs.openSync(path.join(dir, `${name}.log`), 'a');
  const web = spawn(process.execPath, ['node_modules/next/dist/bin/next', 'start', '-p', String(webPort)], {
    env: { ...env, AUTH_URL: url },
    stdio: ['ignore', logFile('dashboard'), logFile('dashboard')],
  });
  const worker = spawn(process.execPath, workerNodeArgs(), { env, stdio: ['ignore', logFile('worker'), logFile('worker')] });
  children.push(web, worker);
  for (const [name, child] of [['dashboard', web], ['worker', worker]] as const) {
    child.once('exit', (code) => {
      if (!stopping) {
        log(`The ${name} exited (code ${code}); see .strata/${name}.log.`);
        void shutdown(1);
      }
    });
  }
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/api/auth/csrf`)).status < 500) break;
    } catch {
      /* not listening yet */
    }
    if (i > 300) throw new Error('the dashboard did not start within 60 s; see .strata/dashboard.log');
    await new Promise((r) => setTimeout(r, 200));
  }
  log(`
Strata demo is running: ${url}
  sign in (demo only): ${DEMO_USERS.map((u) => `${u.email} / ${u.password} (${u.role})`).join('\n                       ')}
  CLI from another shell: npx --no-install strata tenant list
  logs: .strata/dashboard.log, .strata/worker.log
Press Ctrl-C to stop.`);
} catch (err) {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  await shutdown(1);
}
