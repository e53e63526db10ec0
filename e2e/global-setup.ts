// Starts the real stack for the e2e specs and returns its teardown:
// startLocalServices (PostgreSQL, s3rver, B2 server, age keys) in a temp dir → migrate → users,
// API tokens and demo tenants → `next start` (the `next build` output) → a worker.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalServices } from '../lib/services/local.ts';
import { closeDb, getDb } from '../lib/db/client.ts';
import { runMigrations } from '../lib/db/migrate.ts';
import { createUser } from '../lib/auth/users.ts';
import { createApiToken } from '../lib/auth/tokens.ts';
import { createDemoTenant } from '../lib/testing/tenant-data.ts';
import { workerNodeArgs } from '../worker/launch.ts';
import { E2E_PORT as PORT, STATE_FILE, TENANTS, USERS, type E2EState } from './stack.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

async function waitFor(url: string, child: ChildProcess, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited with code ${child.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${ms} ms`);
}

function start(name: string, cmd: string, args: string[], env: Record<string, string>, logDir: string): ChildProcess {
  const log = fs.openSync(path.join(logDir, `${name}.log`), 'a');
  return spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', log, log] });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export default async function globalSetup() {
  if (!fs.existsSync(path.join(ROOT, '.next', 'BUILD_ID'))) {
    throw new Error('no Next build found: run `npx next build` before `npm run test:e2e`');
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-e2e-'));
  const services = await startLocalServices({ dir });
  const children: ChildProcess[] = [];
  try {
    const env: Record<string, string> = {
      ...services.env,
      STRATA_TIMEZONE: 'Europe/Berlin',
      STRATA_WORKER_POLL_MS: '300',
      AUTH_URL: `http://localhost:${PORT}`,
      NODE_ENV: 'production',
    };
    const db = getDb(env.DATABASE_URL!);
    await runMigrations(db);
    for (const [role, u] of Object.entries(USERS)) await createUser(db, { email: u.email, password: u.password, role: role as 'admin' });
    const tokens = {} as E2EState['tokens'];
    for (const role of ['admin', 'operator', 'viewer'] as const) {
      tokens[role] = (await createApiToken(db, { name: `e2e-${role}`, role, createdBy: 'e2e-setup' })).secret;
    }
    for (const t of TENANTS) await createDemoTenant(db, { ...t });
    await closeDb(env.DATABASE_URL);

    console.log(`[e2e] stack in ${dir}; logs: ${dir}/next.log, ${dir}/worker.log`);
    const next = start('next', process.execPath, ['node_modules/next/dist/bin/next', 'start', '-p', String(PORT)], env, dir);
    children.push(next);
    const worker = start('worker', process.execPath, workerNodeArgs(), env, dir);
    children.push(worker);
    await waitFor(`http://localhost:${PORT}/api/openapi.json`, next);

    const state: E2EState = { databaseUrl: env.DATABASE_URL!, baseURL: `http://localhost:${PORT}`, dir, tokens, env };
    fs.writeFileSync(STATE_FILE, JSON.stringify(state), { mode: 0o600 });
  } catch (err) {
    for (const c of children) await stopChild(c);
    await services.stop();
    throw err;
  }

  return async () => {
    for (const c of children.reverse()) await stopChild(c);
    await services.stop();
    fs.rmSync(STATE_FILE, { force: true });
    if (!process.env.E2E_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  };
}
