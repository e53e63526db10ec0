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
export async function addDailyOnlyPlan(db: Db, tierId = 'daily_only'): Promise<void> {
  await db.execute(sql`insert into subscription_tiers (id, name) values (${tierId}, 'Daily only') on conflict do nothing`);
  await db.execute(sql`
    insert into backup_retention_policies (tier_id, daily_retention_days, weekly_retention_weeks, monthly_retention_months)
    values (${tierId}, 7, 0, 0) on conflict (tier_id) do nothing`);
}

/** Makes every active schedule (or those of the given tenants) due `agoSeconds` ago. */
export async function makeDue(db: Db, agoSeconds = 60, tenantIds?: string[]): Promise<void> {
  await db.execute(sql`
    update backup_schedules set next_run_at = now() - make_interval(secs => ${agoSeconds})
    where is_active ${tenantIds ? sql`and tenant_id in (select jsonb_array_elements_text(${JSON.stringify(tenantIds)}::jsonb))` : sql``}`);
}
