import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { runMigrations } from '../db/migrate.ts';
import { startTestStack, type TestStack } from './stack.ts';

describe('test stack and migrations', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it('migrates idempotently and seeds the three plans and policies', async () => {
    const second = await runMigrations(stack.db);
    assert.deepEqual(second.platformTablesCreated, []);
    const policies = await stack.db.execute<{ tier_id: string; d: number; w: number; m: number }>(sql`
      select tier_id, daily_retention_days d, weekly_retention_weeks w, monthly_retention_months m
      from backup_retention_policies order by tier_id`);
    assert.deepEqual(policies.rows, [
      { tier_id: 'advanced', d: 0, w: 0, m: 12 },
      { tier_id: 'basic', d: 0, w: 0, m: 0 },
      { tier_id: 'premium', d: 7, w: 4, m: 12 },
    ]);
    const plans = await stack.db.execute<{ id: string }>(sql`select id from subscription_tiers order by id`);
    assert.deepEqual(plans.rows.map((r) => r.id), ['advanced', 'basic', 'premium']);
  });

  it('leaves existing platform tables untouched', async () => {
    const other = `${stack.config.DATABASE_URL.replace(/\/[^/]*$/, '')}/`;
    assert.ok(other.length > 0);
    const { getDb } = await import('../db/client.ts');
    const { createDatabase } = await import('./stack.ts');
    const name = `app_${Date.now()}`;
    await createDatabase(stack.urlFor('postgres'), name);
    const appDb = getDb(stack.urlFor(name));
    await appDb.execute(sql`create table tenants (id text primary key, name text not null, schema_name text not null, region text)`);
    await appDb.execute(sql`create table subscription_tiers (id text primary key, name text not null, price_cents int)`);
    await appDb.execute(sql`insert into subscription_tiers values ('gold', 'Gold', 100)`);
    const result = await runMigrations(appDb);
    assert.deepEqual(result.platformTablesCreated, ['tenant_subscriptions']);
    const cols = await appDb.execute<{ column_name: string }>(sql`
      select column_name from information_schema.columns where table_name = 'tenants' order by ordinal_position`);
    assert.deepEqual(cols.rows.map((r) => r.column_name), ['id', 'name', 'schema_name', 'region']);
    const tiers = await appDb.execute<{ id: string }>(sql`select id from subscription_tiers`);
    assert.deepEqual(tiers.rows.map((r) => r.id), ['gold']);
  });

  it('gives a Config that reaches every store', () => {
    assert.equal(stack.config.b2Configured, true);
    assert.equal(stack.config.S3_CHECKSUM_MODE, 'when_required');
    assert.match(stack.config.BACKUP_ENCRYPTION_RECIPIENTS[0]!, /^age1/);
  });
});
