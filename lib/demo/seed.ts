// The demo's data: users with fixed logins (demo only), six hospital tenants over all plans, and
// real backups of every protected tenant into each storage tier its plan uses.
import { sql } from 'drizzle-orm';
import { createUser, UserExistsError } from '../auth/users.ts';
import { createBackupGroup } from '../backup/create.ts';
import { runBackupGroup } from '../backup/run-backup.ts';
import type { Db } from '../db/client.ts';
import { quoteIdent, quoteLiteral } from '../db/ident.ts';
import { SCHEDULE_STORAGE, type Plan } from '../domain.ts';
import type { Config } from '../env.ts';
import { SEEDED_POLICIES } from '../retention/policies.ts';
import { schedulesForPolicy } from '../schedule/policy.ts';
import { reconcileSchedules } from '../scheduler/reconcile.ts';
import { TENANT_OWNER_ROLE } from '../services/replay-role.ts';
import type { Stores } from '../storage/registry.ts';
import { createDemoTenant } from '../testing/tenant-data.ts';

/** Printed by `npm run demo` and written in the README. Demo only: never use these elsewhere. */
export const DEMO_USERS = [
  { email: 'admin@strata.local', password: 'strata-demo-admin', role: 'admin' },
  { email: 'operator@strata.local', password: 'strata-demo-operator', role: 'operator' },
  { email: 'viewer@strata.local', password: 'strata-demo-viewer', role: 'viewer' },
] as const;

// St. Mary's is the large one: ~120k patients ≈ 60 MB of raw dump.
export const DEMO_TENANTS: { id: string; name: string; schemaName: string; plan: Plan; patients: number }[] = [
  { id: 'st-marys', name: "St. Mary's General Hospital", schemaName: 'st_marys', plan: 'premium', patients: 120_000 },
  { id: 'northside', name: 'Northside Clinic', schemaName: 'northside', plan: 'premium', patients: 8_000 },
  { id: 'lakeview', name: 'Lakeview Medical Center', schemaName: 'lakeview', plan: 'advanced', patients: 15_000 },
  { id: 'saint-eloi', name: 'Hôpital Saint-Éloi', schemaName: 'Hôpital Saint-Éloi', plan: 'advanced', patients: 5_000 },
  { id: 'riverside', name: 'Riverside Family Practice', schemaName: 'riverside', plan: 'basic', patients: 2_000 },
  { id: 'harbor-peds', name: 'Harbor Pediatrics', schemaName: 'harbor pediatrics', plan: 'basic', patients: 1_500 },
];

export async function seedUsers(db: Db, log: (m: string) => void): Promise<void> {
  for (const u of DEMO_USERS) {
    try {
      await createUser(db, { email: u.email, password: u.password, role: u.role });
      log(`  user ${u.email} (${u.role})`);
    } catch (err) {
      if (!(err instanceof UserExistsError)) throw err;
    }
  }
}

/**
 * The demo's tenant schemas belong to the application's role (saas_app), never to a superuser, so that
 * the replay role (a member of saas_app, lib/services/replay-role.ts) can restore them. Creates the
 * role when the database has none (a DATABASE_URL of your own), and gives saas_app the schemas and
 * tables of a demo seeded before tenants had an application owner.
 */
export async function ensureTenantOwnership(db: Db): Promise<void> {
  await db.execute(sql.raw(`DO $strata$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${TENANT_OWNER_ROLE}') THEN CREATE ROLE ${TENANT_OWNER_ROLE} NOLOGIN; END IF;
  END $strata$`));
  for (const t of DEMO_TENANTS) {
    await db.execute(sql.raw(`DO $strata$
DECLARE r record;
BEGIN
  IF EXISTS (SELECT FROM pg_namespace WHERE nspname = ${quoteLiteral(t.schemaName)} AND nspowner <> '${TENANT_OWNER_ROLE}'::regrole) THEN
    ALTER SCHEMA ${quoteIdent(t.schemaName)} OWNER TO ${TENANT_OWNER_ROLE};
    -- Demo tenants hold tables only (their identity sequences follow them).
    FOR r IN SELECT c.oid::regclass AS rel FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = ${quoteLiteral(t.schemaName)} AND c.relkind IN ('r', 'p') LOOP
      EXECUTE format('ALTER TABLE %s OWNER TO ${TENANT_OWNER_ROLE}', r.rel);
    END LOOP;
  END IF;
END
$strata$`));
  }
}

async function seedTenants(db: Db, log: (m: string) => void): Promise<void> {
  await ensureTenantOwnership(db);
  for (const t of DEMO_TENANTS) {
    const exists = await db.execute(sql`select 1 from tenants where id::text = ${t.id}`);
    if (exists.rowCount) continue;
    const started = Date.now();
    await createDemoTenant(db, t);
    log(`  tenant ${t.id} (${t.plan}, ${t.patients.toLocaleString('en-US')} patients) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

/** One real backup per storage tier the tenant's plan uses, where that tier has no completed backup yet. */
async function seedBackups(ctx: { db: Db; config: Config; stores: Stores }, log: (m: string) => void): Promise<void> {
  for (const t of DEMO_TENANTS) {
    for (const { scheduleType } of schedulesForPolicy(SEEDED_POLICIES[t.plan])) {
      const done = await ctx.db.execute(
        sql`select 1 from backup_jobs where tenant_id = ${t.id} and origin = ${scheduleType} and status = 'completed' limit 1`,
      );
      if (done.rowCount) continue;
      const started = Date.now();
      const [row] = await createBackupGroup(ctx.db, { tenantId: t.id, storageTiers: [SCHEDULE_STORAGE[scheduleType]], origin: scheduleType, requestedBy: 'demo' });
      await runBackupGroup(ctx, row!.dumpGroup);
      log(`  backup of ${t.id} → ${SCHEDULE_STORAGE[scheduleType]} (${scheduleType}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  }
}

/**
 * The demo's data after its users: the tenants, their plans' schedules, and a first real backup per
 * storage tier — what `npm run demo` shows and what the README's screenshots are taken from.
 */
export async function seedDemoData(ctx: { db: Db; config: Config; stores: Stores }, log: (m: string) => void): Promise<void> {
  await seedTenants(ctx.db, log);
  // A running worker may hold the reconcile lock (this pass would then skip): wait for a pass of our own.
  for (let tries = 1; !(await reconcileSchedules(ctx.db, ctx.config)).ran; tries++) {
    if (tries === 100) throw new Error('schedules could not be reconciled: another reconciler kept the lock for 20 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  log('Taking real backups of every protected tenant into each storage tier its plan uses …');
  await seedBackups(ctx, log);
}
