// The SaaS app's own tables. Strata reads them (the source of truth for tenants and plans) and
// creates them only when absent (demo, tests) — see lib/db/migrate.ts. Never altered or dropped.
import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const tenants = pgTable('tenants', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  schemaName: text('schema_name').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).defaultNow(),
});

export const subscriptionTiers = pgTable('subscription_tiers', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
});

export const tenantSubscriptions = pgTable('tenant_subscriptions', {
  tenantId: text('tenant_id').primaryKey(),
  tierId: text('tier_id').notNull(),
});

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
