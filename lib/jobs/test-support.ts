// Tests of the queue, the scheduler and the worker: tiny tenants written straight into the
// platform tables (the way the SaaS app adds them), each with a one-table schema.
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { quoteIdent } from '../db/ident.ts';
import { TENANT_OWNER_ROLE } from '../services/replay-role.ts';

export interface TinyTenantOptions {
  plan: string;
  /** Rows of the one table (default 3). */
  rows?: number;
  /** Bytes of random (incompressible) data per row (default 16). */
  rowBytes?: number;
}

export async function addTinyTenants(db: Db, ids: string[], opts: TinyTenantOptions): Promise<void> {
  for (const id of ids) {
    const schema = quoteIdent(`t_${id}`);
    // Owned by the SaaS application's role, like every tenant schema (the replay role is its member).
    await db.execute(sql.raw(`create schema ${schema} authorization ${TENANT_OWNER_ROLE}`));
    await db.execute(sql.raw(`create table ${schema}.notes (id int primary key, body bytea not null)`));
    await db.execute(sql.raw(`alter table ${schema}.notes owner to ${TENANT_OWNER_ROLE}`));
    const chunks = Math.max(1, Math.ceil((opts.rowBytes ?? 16) / 16));
    await db.execute(sql.raw(`
      insert into ${schema}.notes
      select g, (select string_agg(decode(md5(random()::text || g || c), 'hex'), ''::bytea) from generate_series(1, ${chunks}) c)
      from generate_series(1, ${opts.rows ?? 3}) g`));
  }
  await db.execute(sql`
    insert into tenants (id, name, schema_name)
    select x, 'Tenant ' || x, 't_' || x from jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb) x`);
  await db.execute(sql`
    insert into tenant_subscriptions (tenant_id, tier_id)
    select x, ${opts.plan} from jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb) x`);
}

/** A plan with only a daily schedule (one backup per tenant per day, to s3_standard). */
export async function addDailyOnlyPlan(db: Db, tierId: 'advanced' | 'premium' = 'premium'): Promise<void> {
  // Strata knows three plans (a tier id it does not know counts as basic: design.md "Words"), so the
  // test database's premium policy becomes daily-only: one schedule, one storage tier per tenant.
  await db.execute(sql`
    update backup_retention_policies set daily_retention_days = 7, weekly_retention_weeks = 0, monthly_retention_months = 0
    where tier_id = ${tierId}`);
}

/** Makes every active schedule (or those of the given tenants) due `agoSeconds` ago. */
export async function makeDue(db: Db, agoSeconds = 60, tenantIds?: string[]): Promise<void> {
  await db.execute(sql`
    update backup_schedules set next_run_at = now() - make_interval(secs => ${agoSeconds})
    where is_active ${tenantIds ? sql`and tenant_id in (select jsonb_array_elements_text(${JSON.stringify(tenantIds)}::jsonb))` : sql``}`);
}
