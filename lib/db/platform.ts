// The SaaS app's own tables. Strata reads them (the source of truth for tenants and plans) and
// creates them only when absent (demo, tests) — see lib/db/migrate.ts. Never altered or dropped.
//
// Strata reads ONLY the contract's columns: tenants(id, name, schema_name),
// subscription_tiers(id, name), tenant_subscriptions(tenant_id, tier_id). The application may add
// columns (with or without defaults), triggers and row-level security, and may type `tenants.id` as
// text, integer/bigint or uuid: every read goes through `platformTenantsSql`, which casts each value
// to text, so ids compare as text against Strata's own (text) tenant_id columns and a request's id
// that is not a valid bigint/uuid simply matches nothing. Anything else Strata wants to know about a
// tenant lives in its own tables (tenant_state).
import { sql, type SQL } from 'drizzle-orm';
import { PLANS, type Plan } from '../domain.ts';
import type { Db } from './client.ts';

/** The platform tables and the columns of each that Strata reads (README "Pointing Strata at …"). */
export const PLATFORM_CONTRACT = {
  tenants: ['id', 'name', 'schema_name'],
  subscription_tiers: ['id', 'name'],
  tenant_subscriptions: ['tenant_id', 'tier_id'],
} as const;

const planList = PLANS.map((p) => `'${p}'`).join(', ');

/** Most protective first (PLANS is in rising order of protection): how a tenant's subscription rows are ranked. */
const tierRank = `case s.tier_id::text ${PLANS.map((p, i) => `when '${p}' then ${i + 1}`).join(' ')} else 0 end desc, s.tier_id::text`;

/**
 * The platform's tenants as one row each (alias it: `from ${platformTenantsSql} t`), every value text:
 * id, name, schema_name; subscription_tier_id (the application's tier id as written, null without a
 * subscription row) and tier_id (the plan Strata applies: a tier id that is not one of Strata's plans
 * counts as basic). An application that keeps several subscription rows per tenant (history, add-ons)
 * still gets one row per tenant: the most protective plan among them (premium, advanced, basic, then
 * an unknown tier id), so a tenant is never protected less than one of its rows says.
 */
export const platformTenantsSql: SQL = sql.raw(`(
    select t.id::text as id, t.name::text as name, t.schema_name::text as schema_name,
      s.tier_id as subscription_tier_id,
      case when s.tier_id is null then null when s.tier_id in (${planList}) then s.tier_id else 'basic' end as tier_id
    from tenants t
    left join (
      select distinct on (s.tenant_id::text) s.tenant_id::text as tenant_id, s.tier_id::text as tier_id
      from tenant_subscriptions s
      where s.tier_id is not null
      order by s.tenant_id::text, ${tierRank}
    ) s on s.tenant_id = t.id::text
  )`);

/** The plan Strata applies to a subscription's tier id (unknown tiers count as basic; null: none). */
export function planOfTier(tierId: string | null): Plan | null {
  if (tierId === null) return null;
  return (PLANS as readonly string[]).includes(tierId) ? (tierId as Plan) : 'basic';
}

/** How a tenant's plan is shown: the plan, or "unknown plan (<tier id>)" for a tier Strata does not know. */
export function planLabel(plan: string | null, subscriptionTierId: string | null): string {
  if (subscriptionTierId !== null && !(PLANS as readonly string[]).includes(subscriptionTierId)) {
    return `unknown plan (${subscriptionTierId}), treated as basic`;
  }
  return plan ?? 'no plan';
}

/** Created only when `to_regclass(name)` is null; seeded only when Strata created it. */
export const platformTableDdl: { name: string; create: string; seed?: string }[] = [
  {
    name: 'tenants',
    create: `CREATE TABLE tenants (
      id text PRIMARY KEY,
      name text NOT NULL,
      schema_name text NOT NULL UNIQUE,
      created_at timestamptz DEFAULT now()
    )`,
  },
  {
    name: 'subscription_tiers',
    create: `CREATE TABLE subscription_tiers (id text PRIMARY KEY, name text NOT NULL)`,
    seed: `INSERT INTO subscription_tiers (id, name) VALUES ('basic', 'Basic'), ('advanced', 'Advanced'), ('premium', 'Premium')`,
  },
  {
    name: 'tenant_subscriptions',
    create: `CREATE TABLE tenant_subscriptions (
      tenant_id text PRIMARY KEY,
      tier_id text NOT NULL,
      updated_at timestamptz DEFAULT now()
    )`,
  },
];

/** One tenant's platform row (null when absent); the id compares as text. */
export async function findPlatformTenant(
  db: Pick<Db, 'execute'>,
  tenantId: string,
): Promise<PlatformTenant | null> {
  const res = await db.execute<PlatformTenantRow>(sql`select * from ${platformTenantsSql} t where t.id = ${tenantId}`);
  const r = res.rows[0];
  return r ? toPlatformTenant(r) : null;
}

export interface PlatformTenant {
  id: string;
  name: string;
  schemaName: string;
  /** The plan Strata applies (null: no subscription row). */
  tierId: Plan | null;
  /** The application's tier id as written (may be a tier Strata does not know). */
  subscriptionTierId: string | null;
}

export type PlatformTenantRow = {
  id: string;
  name: string;
  schema_name: string;
  tier_id: string | null;
  subscription_tier_id: string | null;
};

export function toPlatformTenant(r: PlatformTenantRow): PlatformTenant {
  return { id: r.id, name: r.name, schemaName: r.schema_name, tierId: planOfTier(r.tier_id), subscriptionTierId: r.subscription_tier_id };
}
