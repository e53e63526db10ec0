import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import { tenantProtection } from './protection.ts';

// Catalog rows written directly: these tests are about the status arithmetic, not about backups.
describe('tenant protection status (docs/design.md "Overdue")', () => {
  let stack: TestStack;
  const now = new Date('2026-11-26T12:00:00Z');
  const addTenant = async (id: string, plan: string, firstSeen: string) => {
    await stack.db.execute(sql`insert into tenants (id, name, schema_name) values (${id}, ${id}, ${id})`);
    await stack.db.execute(sql`insert into tenant_subscriptions (tenant_id, tier_id) values (${id}, ${plan})`);
    await stack.db.execute(sql`insert into tenant_state (tenant_id, first_seen_at) values (${id}, ${firstSeen})`);
  };
  const addSchedule = (id: string, type: string, paused = false) =>
    stack.db.execute(sql`insert into backup_schedules (tenant_id, schedule_type, storage_tier, is_paused, next_run_at, created_at)
      values (${id}, ${type}, 's3_standard', ${paused}, ${now}, '2026-01-01T00:00:00Z')`);
  const addBackup = (id: string, startedAt: string, status = 'completed') =>
    stack.db.execute(sql`insert into backup_jobs (tenant_id, storage_tier, status, started_at, completed_at, backup_size_bytes)
      values (${id}, 's3_standard', ${status}, ${startedAt}, ${startedAt}, 1000)`);

  before(async () => {
    stack = await startTestStack({ STRATA_TIMEZONE: 'UTC', STRATA_RPO_GRACE_HOURS: '2', STRATA_SCHEDULE_WINDOW_MINUTES: '120' });
    await addTenant('basic-1', 'basic', '2026-01-01T00:00:00Z');
    await addTenant('fresh', 'premium', '2026-01-01T00:00:00Z');
    await addSchedule('fresh', 'daily');
    await addBackup('fresh', '2026-11-26T02:30:00Z');
    await addTenant('stale', 'premium', '2026-01-01T00:00:00Z');
    await addSchedule('stale', 'daily');
    await addBackup('stale', '2026-11-25T02:30:00Z');
    await addBackup('stale', '2026-11-26T02:30:00Z', 'failed');
    await addTenant('paused', 'premium', '2026-01-01T00:00:00Z');
    await addSchedule('paused', 'daily', true);
    // Added an hour ago: its first daily slot (02:00 + offset tomorrow) has not come yet.
    await addTenant('new', 'advanced', '2026-11-26T11:00:00Z');
    await addSchedule('new', 'monthly');
  });
  after(async () => stack?.stop());

  it('gives each tenant its status, deadline and last outcome', async () => {
    const rows = Object.fromEntries((await tenantProtection(stack.db, stack.config, { now })).map((r) => [r.id, r]));
    assert.equal(rows['basic-1']!.status, 'unprotected');
    assert.equal(rows['basic-1']!.overdue_after, null);
    assert.equal(rows.fresh!.status, 'ok');
    // newest started 2026-11-26T02:30Z + 24 h + 2 h grace
    assert.equal(rows.fresh!.overdue_after, '2026-11-27T04:30:00Z');
    assert.equal(rows.stale!.status, 'overdue');
    assert.equal(rows.stale!.overdue_after, '2026-11-26T04:30:00Z');
    assert.equal(rows.stale!.failing, true);
    assert.equal(rows.paused!.status, 'paused');
    assert.equal(rows.new!.status, 'ok');
    // First monthly slot: 2026-12-01 04:00 UTC + the tenant's offset (< 120 min), then + 2 h grace.
    const deadline = Date.parse(rows.new!.overdue_after!);
    assert.ok(deadline >= Date.parse('2026-12-01T06:00:00Z') && deadline < Date.parse('2026-12-01T08:00:00Z'), rows.new!.overdue_after!);
    assert.equal(rows.fresh!.backup_count, 1);
    assert.equal(rows.stale!.stored_bytes, 1000);
  });

  it('answers for one tenant alone', async () => {
    const rows = await tenantProtection(stack.db, stack.config, { tenantId: 'stale', now });
    assert.deepEqual(rows.map((r) => r.id), ['stale']);
  });
});
