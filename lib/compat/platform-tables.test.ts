// Real-SaaS compatibility (issue 12): platform tables Strata did not create. Each database here is
// built the way an application builds it — its own DDL, only the contract's columns plus columns of
// its own (NOT NULL defaults), a trigger, row-level security, foreign keys — with tenants.id of type
// text, bigint and uuid, and a tier id that is not one of Strata's plans. `strata migrate` then
// runs against it and must leave those tables exactly as they are. Tenant list, backup and in-place
// restore through S3 and B2 must work; doctor must name what is wrong with an unusable table.
import { queryOnce } from '../testing/pg-env.ts';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import pg from 'pg';
import { createBackupGroup } from '../backup/create.ts';
import { runBackupGroup } from '../backup/run-backup.ts';
import { closeDb, getDb, type Db } from '../db/client.ts';
import { runMigrations } from '../db/migrate.ts';
import { findPlatformTenant } from '../db/platform.ts';
import { backupJobs } from '../db/schema.ts';
import { platformTableChecks } from '../doctor/checks.ts';
import { parseConfig, type Config } from '../env.ts';
import { createRestore } from '../restore/create.ts';
import { runRestore } from '../restore/run-restore.ts';
import { reconcileSchedules } from '../scheduler/reconcile.ts';
import { createStores, type Stores } from '../storage/registry.ts';
import { addTenant, TenantError } from '../tenants/manage.ts';
import { tenantProtection, tierLabel } from '../tenants/protection.ts';
import { layoutComparison } from '../views/cost.ts';
import { createTestBackups } from '../testing/fixture-backup.ts';
import { createDatabase, dropDatabase, startTestStack, type TestStack } from '../testing/stack.ts';
import { TENANT_OWNER_ROLE } from '../services/replay-role.ts';

type IdType = 'text' | 'bigint' | 'uuid';

const IDS: Record<IdType, [string, string]> = {
  text: ['acc_t1', 'acc_t2'],
  bigint: ['42', '43'],
  uuid: ['2f1c9a52-7d4e-4c1b-9a57-0b1f3c6d8e01', '9b0e6f3a-1c2d-4e5f-8a7b-6c5d4e3f2a10'],
};

/** The application's own DDL: never anything `strata migrate` would create. */
function appDdl(idType: IdType): string {
  return `
    CREATE TABLE subscription_tiers (id text PRIMARY KEY, name text NOT NULL, monthly_cents integer NOT NULL DEFAULT 0);
    INSERT INTO subscription_tiers (id, name, monthly_cents) VALUES
      ('basic', 'Basic', 0), ('advanced', 'Advanced', 900), ('premium', 'Premium', 4900), ('gold', 'Gold (legacy)', 9900);
    CREATE TABLE tenants (
      id ${idType} PRIMARY KEY${idType === 'uuid' ? ' DEFAULT gen_random_uuid()' : ''},
      name text NOT NULL,
      schema_name text NOT NULL UNIQUE,
      region text NOT NULL DEFAULT 'eu-west',
      updated_at timestamptz NOT NULL DEFAULT now(),
      version integer NOT NULL DEFAULT 1
    );
    CREATE TABLE tenant_subscriptions (
      tenant_id ${idType} PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
      tier_id text NOT NULL REFERENCES subscription_tiers(id),
      seats integer NOT NULL DEFAULT 5,
      renews_on date NOT NULL DEFAULT (current_date + 30)
    );
    CREATE FUNCTION app_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN NEW.version := OLD.version + 1; NEW.updated_at := now(); RETURN NEW; END $$;
    CREATE TRIGGER tenants_bump BEFORE UPDATE ON tenants FOR EACH ROW EXECUTE FUNCTION app_bump_version();
    ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
    ALTER TABLE tenant_subscriptions ENABLE ROW LEVEL SECURITY;
    CREATE POLICY tenants_isolation ON tenants USING (id::text = current_setting('app.tenant_id', true));
    CREATE POLICY subscriptions_isolation ON tenant_subscriptions USING (tenant_id::text = current_setting('app.tenant_id', true));`;
}

function tenantDdl(idType: IdType, n: 1 | 2): string {
  const schema = `app_${idType}_${n}`;
  const id = IDS[idType][n - 1];
  return `
    CREATE SCHEMA ${schema} AUTHORIZATION ${TENANT_OWNER_ROLE};
    SET ROLE ${TENANT_OWNER_ROLE};
    CREATE TABLE ${schema}.orders (id integer PRIMARY KEY, note text NOT NULL);
    INSERT INTO ${schema}.orders SELECT g, 'order ' || g FROM generate_series(1, 50) g;
    RESET ROLE;
    INSERT INTO tenants (id, name, schema_name) VALUES ('${id}', 'Tenant ${idType} ${n}', '${schema}');
    INSERT INTO tenant_subscriptions (tenant_id, tier_id) VALUES ('${id}', '${n === 1 ? 'premium' : 'gold'}');`;
}

const columnsOf = async (db: Db, table: string) =>
  (await db.execute<{ c: string }>(sql`select string_agg(column_name::text, ',' order by ordinal_position) as c from information_schema.columns where table_schema = 'public' and table_name = ${table}`)).rows[0]!.c;

interface App {
  url: string;
  db: Db;
  config: Config;
  env: Record<string, string>;
  ctx: { db: Db; config: Config; stores: Stores };
}

describe('platform tables the application created (text, bigint and uuid ids)', () => {
  let stack: TestStack;
  const apps = {} as Record<IdType | 'broken' | 'history', App>;
  const databases: string[] = [];

  const strata = (env: Record<string, string>, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['worker/bin/strata.mjs', ...args], { env: { ...process.env, ...env } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b) => (stdout += b));
      child.stderr.on('data', (b) => (stderr += b));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      child.stdin.end();
    });

  async function appDatabase(label: IdType | 'broken' | 'history', ddl: string): Promise<App> {
    const name = `compat_${label}_${crypto.randomBytes(4).toString('hex')}`;
    await createDatabase(stack.urlFor('postgres'), name);
    databases.push(name);
    const url = stack.urlFor(name);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    // The application's role may create schemas here (a restore gives each back to it).
    await c.query(`GRANT CREATE ON DATABASE ${name} TO ${TENANT_OWNER_ROLE}`);
    await c.query(ddl);
    await c.end();
    // Replays connect as the stack's restore role, to this database.
    const restoreUrl = new URL(stack.env.STRATA_RESTORE_DATABASE_URL!);
    restoreUrl.pathname = `/${name}`;
    const env = { ...stack.env, DATABASE_URL: url, STRATA_RESTORE_DATABASE_URL: restoreUrl.toString() };
    const config = parseConfig(env);
    const db = getDb(url);
    return { url, db, config, env, ctx: { db, config, stores: createStores(config) } };
  }

  before(async () => {
    stack = await startTestStack();
    for (const idType of ['text', 'bigint', 'uuid'] as const) {
      const app = await appDatabase(idType, appDdl(idType) + tenantDdl(idType, 1) + tenantDdl(idType, 2));
      const migrated = await runMigrations(app.db);
      assert.deepEqual(migrated.platformTablesCreated, [], 'strata migrate leaves the application tables alone');
      apps[idType] = app;
    }
    // Contract columns missing or of a type Strata cannot read; subscription_tiers absent.
    apps.broken = await appDatabase('broken', `
      CREATE TABLE tenants (id text PRIMARY KEY, name text NOT NULL, schema text NOT NULL);
      CREATE TABLE tenant_subscriptions (tenant_id text PRIMARY KEY, tier_id jsonb NOT NULL);`);
    await runMigrations(apps.broken.db);
    await apps.broken.db.execute(sql`drop table subscription_tiers`);
    // Subscriptions kept as history (several rows per tenant, bigint ids, no primary key on tenant_id).
    apps.history = await appDatabase('history', `
      CREATE TABLE subscription_tiers (id text PRIMARY KEY, name text NOT NULL);
      INSERT INTO subscription_tiers VALUES ('basic', 'Basic'), ('advanced', 'Advanced'), ('premium', 'Premium'), ('gold', 'Gold (legacy)');
      CREATE TABLE tenants (id bigint PRIMARY KEY, name text NOT NULL, schema_name text NOT NULL UNIQUE);
      CREATE TABLE tenant_subscriptions (
        id bigserial PRIMARY KEY,
        tenant_id bigint NOT NULL REFERENCES tenants(id),
        tier_id text NOT NULL REFERENCES subscription_tiers(id),
        started_on date NOT NULL,
        ended_on date
      );
      INSERT INTO tenants VALUES (7, 'Seven', 'app_hist_7'), (8, 'Eight', 'app_hist_8'), (9, 'Nine', 'app_hist_9'), (10, 'Ten', 'app_hist_10');
      INSERT INTO tenant_subscriptions (tenant_id, tier_id, started_on, ended_on) VALUES
        (7, 'basic', '2025-01-01', '2025-06-30'), (7, 'premium', '2025-07-01', NULL), (7, 'advanced', '2024-01-01', '2024-12-31'),
        (8, 'gold', '2024-01-01', NULL), (8, 'advanced', '2025-01-01', NULL),
        (9, 'gold', '2024-01-01', '2024-12-31'), (9, 'gold', '2025-01-01', NULL);`);
    await runMigrations(apps.history.db);
  });
  after(async () => {
    for (const app of Object.values(apps)) await closeDb(app.url).catch(() => {});
    for (const name of databases) await dropDatabase(stack.urlFor('postgres'), name).catch(() => {});
    await stack?.stop();
  });

  for (const idType of ['text', 'bigint', 'uuid'] as const) {
    const [first, second] = IDS[idType];

    it(`${idType} ids: migrate leaves the tables as they were; tenant list, plans and schedules read only the contract`, async () => {
      const { db, config } = apps[idType];
      assert.equal(await columnsOf(db, 'tenants'), 'id,name,schema_name,region,updated_at,version');
      assert.equal(await columnsOf(db, 'tenant_subscriptions'), 'tenant_id,tier_id,seats,renews_on');

      const list = await tenantProtection(db, config);
      assert.deepEqual(list.map((t) => [t.id, t.schema_name, t.tier, t.plan_known]).sort(), [
        [first, `app_${idType}_1`, 'premium', true],
        [second, `app_${idType}_2`, 'basic', false],
      ].sort());
      const gold = list.find((t) => t.id === second)!;
      assert.equal(gold.subscription_tier_id, 'gold');
      assert.match(tierLabel(gold), /^unknown plan \(gold\), treated as basic$/);

      // Ids compare as text: an id the column's type cannot hold is simply not a tenant.
      assert.equal(await findPlatformTenant(db, 'no-such-tenant'), null);
      assert.equal((await findPlatformTenant(db, first))?.schemaName, `app_${idType}_1`);

      // `strata tenant add` writes only the contract's columns; an id the column cannot hold is a usage error.
      if (idType !== 'text') {
        await assert.rejects(addTenant(db, { id: 'acme', name: 'Acme', schemaName: 'public', plan: 'basic' }), (err: unknown) =>
          err instanceof TenantError && err.code === 'bad_request' && /tenants\.id/.test(err.message));
      }

      // The unknown tier is basic: no schedules; premium gets its three.
      await reconcileSchedules(db, config);
      const schedules = await db.execute<{ tenant_id: string; n: number }>(
        sql`select tenant_id, count(*)::int as n from backup_schedules group by tenant_id order by tenant_id`,
      );
      assert.deepEqual(schedules.rows.map((r) => [r.tenant_id, r.n]), [[first, 3]]);
      const state = await db.execute<{ tier_id: string }>(sql`select tier_id from tenant_state where tenant_id = ${second}`);
      assert.equal(state.rows[0]?.tier_id, 'basic');
    });

    it(`${idType} ids: \`strata migrate\` and \`strata tenant list\` need DATABASE_URL only; the list shows the unknown plan`, async () => {
      // Nothing but DATABASE_URL: no S3, B2 or encryption settings (issue 12 item 3).
      const only = { DATABASE_URL: apps[idType].url, S3_BACKUP_BUCKET: '', BACKUP_ENCRYPTION_RECIPIENTS: '', B2_BUCKET_NAME: '', B2_BUCKET_ID: '', B2_APPLICATION_KEY_ID: '', B2_APPLICATION_KEY: '' };
      const migrate = await strata(only, ['migrate', '--json']);
      assert.equal(migrate.code, 0, migrate.stderr + migrate.stdout);
      const run = await strata(only, ['tenant', 'list', '--json']);
      assert.equal(run.code, 0, run.stderr + run.stdout);
      const { tenants } = JSON.parse(run.stdout) as { tenants: Record<string, unknown>[] };
      const byId = new Map(tenants.map((t) => [t.id, t]));
      assert.equal(byId.get(first)?.tier, 'premium');
      assert.deepEqual(
        { tier: byId.get(second)?.tier, plan_known: byId.get(second)?.plan_known, subscription_tier_id: byId.get(second)?.subscription_tier_id },
        { tier: 'basic', plan_known: false, subscription_tier_id: 'gold' },
      );
      const human = await strata(only, ['tenant', 'list']);
      assert.match(human.stdout, /unknown plan \(gold\)/);
    });

    it(`${idType} ids: backup, then in-place restore through S3 and through B2`, async () => {
      const { ctx, url } = apps[idType];
      const exec = (text: string) => queryOnce(url, text);
      const rows = async () => (await exec(`SELECT count(*)::int AS n, string_agg(note, ',' ORDER BY id) AS notes FROM app_${idType}_1.orders`)).rows[0];
      const original = await rows();
      const backups = await createTestBackups(ctx, first, ['s3_standard', 'b2_cold']);
      for (const tier of ['s3_standard', 'b2_cold'] as const) {
        assert.equal(backups[tier]!.tierId, 'premium');
        await exec(`DELETE FROM app_${idType}_1.orders WHERE id % 2 = 0; UPDATE app_${idType}_1.orders SET note = 'changed'`);
        assert.notDeepEqual(await rows(), original);
        const restore = await createRestore(ctx.db, { backupId: backups[tier]!.id, mode: 'in_place', requestedBy: 'test' });
        assert.equal(restore.targetSchema, `app_${idType}_1`);
        const done = await runRestore(ctx, restore.id);
        assert.equal(done.status, 'completed', done.errorMessage ?? '');
        assert.deepEqual(await rows(), original, `restored through ${tier}`);
      }
      // The unknown tier's backups are recorded with the plan Strata applies.
      const gold = await createBackupGroup(ctx.db, { tenantId: second, storageTiers: ['s3_standard'], origin: 'manual', requestedBy: 'test' });
      assert.equal(gold[0]!.tierId, 'basic');
      await ctx.db.delete(backupJobs).where(eq(backupJobs.dumpGroup, gold[0]!.dumpGroup));
      // The application's tables are untouched by all of it.
      assert.equal(await columnsOf(ctx.db, 'tenants'), 'id,name,schema_name,region,updated_at,version');
    });
  }

  it('several subscription rows per tenant: each tenant listed once, with the most protective plan among its rows', async () => {
    const { db, config, env } = apps.history;
    const list = await tenantProtection(db, config);
    assert.deepEqual(list.map((t) => [t.id, t.tier, t.plan_known, t.subscription_tier_id]).sort(), [
      ['10', null, true, null],
      ['7', 'premium', true, 'premium'],
      ['8', 'advanced', true, 'advanced'],
      ['9', 'basic', false, 'gold'],
    ]);
    const run = await strata({ ...env, S3_BACKUP_BUCKET: '', BACKUP_ENCRYPTION_RECIPIENTS: '' }, ['tenant', 'list', '--json']);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const { tenants } = JSON.parse(run.stdout) as { tenants: { id: string }[] };
    assert.deepEqual(tenants.map((t) => t.id).sort(), ['10', '7', '8', '9']);
    await reconcileSchedules(db, config);
    const schedules = await db.execute<{ tenant_id: string; n: number }>(
      sql`select tenant_id, count(*)::int as n from backup_schedules group by tenant_id order by tenant_id`,
    );
    assert.deepEqual(schedules.rows.map((r) => [r.tenant_id, r.n]), [['7', 3], ['8', 1]]);
    // The Storage & cost page counts each tenant once, under the plan applied (bigint ids against text).
    const comparison = await layoutComparison(db, config);
    assert.deepEqual(comparison.map((c) => [c.plan, c.tenants]).sort(), [['advanced', 1], ['premium', 1]]);
  });

  it('a database error during a backup reaches the job row without its SQL or parameter values', async () => {
    const { ctx, url } = apps.bigint;
    const rows = await createBackupGroup(ctx.db, { tenantId: '43', storageTiers: ['s3_standard'], origin: 'manual', requestedBy: 'test' });
    const exec = async (text: string) => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(text).finally(() => c.end());
    };
    await exec('ALTER TABLE tenants RENAME COLUMN name TO title');
    try {
      await assert.rejects(runBackupGroup(ctx, rows[0]!.dumpGroup));
    } finally {
      await exec('ALTER TABLE tenants RENAME COLUMN title TO name');
    }
    const [row] = await ctx.db.select().from(backupJobs).where(eq(backupJobs.id, rows[0]!.id));
    assert.equal(row!.status, 'failed');
    assert.match(row!.errorMessage ?? '', /SQLSTATE 42703/);
    assert.doesNotMatch(row!.errorMessage ?? '', /Failed query|select |params|\b43\b/i);
    await ctx.db.delete(backupJobs).where(eq(backupJobs.dumpGroup, rows[0]!.dumpGroup));
  });

  it('doctor names the missing table, the missing column and the unusable type', async () => {
    for (const idType of ['text', 'bigint', 'uuid'] as const) {
      assert.deepEqual((await platformTableChecks(apps[idType].db)).filter((c) => !c.ok), [], idType);
    }
    const checks = await platformTableChecks(apps.broken.db);
    const detail = (name: string) => checks.find((c) => c.name === name)!;
    assert.equal(detail('platform:tenants').ok, false);
    assert.match(detail('platform:tenants').detail, /column tenants\.schema_name is missing/);
    assert.match(detail('platform:tenant_subscriptions').detail, /column tenant_subscriptions\.tier_id is jsonb/);
    assert.match(detail('platform:subscription_tiers').detail, /table subscription_tiers does not exist/);
  });

  it('the CLI reports a failing query by its SQLSTATE, never its SQL', async () => {
    const run = await strata(apps.broken.env, ['tenant', 'list', '--json']);
    assert.equal(run.code, 1);
    const { error } = JSON.parse(run.stdout) as { error: { code: string; message: string } };
    assert.equal(error.code, 'database_error');
    assert.match(error.message, /SQLSTATE 42703/);
    assert.doesNotMatch(run.stdout + run.stderr, /Failed query|select |params/i);
  });
});
