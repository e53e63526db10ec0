// Integration-test stack: a fresh database (in the cluster the test runner started, or a private
// one), s3rver and the B2 server on free ports in a temp dir, migrated, with a parsed Config.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { closeDb, getDb, type Db } from '../db/client.ts';
import { runMigrations } from '../db/migrate.ts';
import { scratchDatabaseOwner } from '../domain.ts';
import { parseConfig, type Config } from '../env.ts';
import { startPostgres } from '../services/postgres.ts';
import { startLocalServices } from '../services/local.ts';
import { provisionReplayRole, withClusterLock } from '../services/replay-role.ts';
import { FIXTURE_OWNER } from './fixture-tenant.ts';
import { quietTimeZone } from './quiet-zone.ts';

export interface TestStack {
  config: Config;
  env: Record<string, string>;
  db: Db;
  dir: string;
  /** URL of another database in the same cluster (superuser). */
  urlFor(database: string): string;
  /** The stack's replay role (STRATA_RESTORE_DATABASE_URL's): not a superuser, a member of saas_app. */
  restoreRole: string;
  stop(): Promise<void>;
}

/** Set by scripts/test.ts: superuser URL of the shared test cluster's `postgres` database. */
export const TEST_PG_ENV = 'STRATA_TEST_PG_ADMIN_URL';

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

export async function createDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`create database "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`drop database if exists "${name.replace(/"/g, '""')}" with (force)`);
  } finally {
    await client.end();
  }
}

/**
 * The scratch databases (lib/restore/scratch.ts) of these jobs still in the cluster. Test files run
 * at once share one cluster, so a count of every `strata_%` database sees another file's jobs.
 */
export async function scratchDatabasesOf(db: Db, jobKeys: string[]): Promise<string[]> {
  const { rows } = await db.execute<{ datname: string }>(sql`select datname from pg_database where datname like 'strata\_%'`);
  return rows.map((r) => r.datname).filter((name) => jobKeys.includes(scratchDatabaseOwner(name)?.jobKey ?? ''));
}

export async function startTestStack(extraEnv: Record<string, string> = {}): Promise<TestStack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-test-'));
  const stops: (() => Promise<void>)[] = [];
  let adminUrl = process.env[TEST_PG_ENV];
  if (!adminUrl) {
    const server = await startPostgres();
    stops.push(server.stop);
    adminUrl = server.adminUrl('postgres');
  }
  const database = `t_${crypto.randomBytes(6).toString('hex')}`;
  await createDatabase(adminUrl, database);
  const databaseUrl = withDatabase(adminUrl, database);
  // Replays run as a role that is not a superuser (lib/restore/replay-role.ts); one per stack, since
  // roles are cluster-wide and test files share the cluster. Also a member of the fixture's owner role.
  const restoreRole = `strata_restore_${crypto.randomBytes(6).toString('hex')}`;
  const restoreUrl = await provisionReplayRole(adminUrl, {
    role: restoreRole,
    password: crypto.randomBytes(18).toString('base64url'),
    database,
    alsoMemberOf: [FIXTURE_OWNER],
  });
  const services = await startLocalServices({ dir, databaseUrl });
  // Real workers run against the real clock: keep schedule slots hours away unless a test picks the zone.
  const env = { ...services.env, STRATA_RESTORE_DATABASE_URL: restoreUrl, STRATA_TIMEZONE: quietTimeZone(), ...extraEnv };
  const config = parseConfig(env);
  const db = getDb(databaseUrl);
  await runMigrations(db);
  const admin = adminUrl;
  return {
    config,
    env,
    db,
    dir,
    urlFor: (name) => withDatabase(admin, name),
    restoreRole,
    async stop() {
      await closeDb();
      await services.stop();
      await dropDatabase(admin, database).catch(() => {});
      await withClusterLock(admin, (c) => c.query(`drop role if exists "${restoreRole}"`)).catch(() => {});
      for (const s of stops.reverse()) await s();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
