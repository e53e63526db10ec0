// Reconciliation and ticks against a real database: exactly once with concurrent tickers,
// coinciding schedules in one dump group, busy tenants wait, catch-up after an outage runs once.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { getDb, type Db } from '../db/client.ts';
import { pgTime, pgTimeOrNull } from '../jobs/pg-time.ts';
import { addTinyTenants, makeDue } from '../jobs/test-support.ts';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import { nextRunAt } from '../schedule/next-run.ts';
import { tenantOffsetMinutes } from '../schedule/offset.ts';
import { reconcileSchedules } from './reconcile.ts';
import { fireTenant, tick } from './tick.ts';

describe('schedules: reconcile and tick', () => {
  let stack: TestStack;
  let db: Db;
  before(async () => {
    stack = await startTestStack();
    db = stack.db;
  });
  after(async () => {
    await stack?.stop();
  });
  beforeEach(async () => {
    await db.execute(sql`truncate backup_jobs, backup_schedules, tenant_state, tenants, tenant_subscriptions`);
  });

  const schedules = async () =>
    (await db.execute<Record<string, unknown>>(sql`select * from backup_schedules order by tenant_id, schedule_type`)).rows.map((r): Record<string, unknown> => ({
      ...r,
      next_run_at: pgTime(r.next_run_at),
      last_run_at: pgTimeOrNull(r.last_run_at),
    }));
  const states = async () => (await db.execute<Record<string, unknown>>(sql`select * from tenant_state order by tenant_id`)).rows;

  it('follows each plan; reconciling twice changes nothing; a pause survives', async () => {
    await addTinyTenants(db, ['p1'], { plan: 'premium' });
    await addTinyTenants(db, ['a1'], { plan: 'advanced' });
    await addTinyTenants(db, ['b1'], { plan: 'basic' });
    const first = await reconcileSchedules(db, stack.config);
    assert.equal(first.schedulesCreated, 4);
    assert.deepEqual(first.tenantsAdded.sort(), ['a1', 'b1', 'p1']);
    const rows = await schedules();
    assert.deepEqual(
      rows.map((r) => [r.tenant_id, r.schedule_type, r.storage_tier, r.is_active]),
      [
        ['a1', 'monthly', 'b2_cold', true],
        ['p1', 'daily', 's3_standard', true],
        ['p1', 'monthly', 'b2_cold', true],
        ['p1', 'weekly', 's3_ia', true],
      ],
    );
    const now = new Date();
    for (const r of rows) {
      const expected = nextRunAt(r.schedule_type as 'daily', tenantOffsetMinutes(r.tenant_id as string, stack.config.STRATA_SCHEDULE_WINDOW_MINUTES), now, stack.config.STRATA_TIMEZONE);
      assert.ok(Math.abs((r.next_run_at as Date).getTime() - expected.getTime()) < 1, `${r.tenant_id} ${r.schedule_type} from the calendar`);
    }

    await db.execute(sql`update backup_schedules set is_paused = true where tenant_id = 'p1' and schedule_type = 'weekly'`);
    const [s1, t1] = [await schedules(), await states()];
    const again = await reconcileSchedules(db, stack.config);
    assert.deepEqual(
      { ...again, ran: true },
      { ran: true, schedulesCreated: 0, schedulesReactivated: 0, schedulesDeactivated: 0, schedulesDeleted: 0, tenantsAdded: [], tenantsRemoved: [] },
    );
    assert.deepEqual(await schedules(), s1, 'schedules unchanged (is_paused, next_run_at, updated_at)');
    assert.deepEqual(await states(), t1, 'tenant_state unchanged');
  });

  it('notices a tenant the app wrote straight into the platform tables, plan changes and removal', async () => {
    await reconcileSchedules(db, stack.config);
    // The SaaS app, not Strata, adds a tenant.
    await db.execute(sql`create schema if not exists app_new`);
    await db.execute(sql`insert into tenants (id, name, schema_name) values ('new-co', 'New Co', 'app_new')`);
    await db.execute(sql`insert into tenant_subscriptions (tenant_id, tier_id) values ('new-co', 'basic')`);
    let r = await reconcileSchedules(db, stack.config);
    assert.deepEqual(r.tenantsAdded, ['new-co']);
    assert.equal((await schedules()).length, 0, 'basic has no schedules');
    assert.equal((await states())[0]!.tier_id, 'basic');

    // Upgrade: schedules appear.
    await db.execute(sql`update tenant_subscriptions set tier_id = 'premium' where tenant_id = 'new-co'`);
    r = await reconcileSchedules(db, stack.config);
    assert.equal(r.schedulesCreated, 3);
    await db.execute(sql`update backup_schedules set is_paused = true where schedule_type = 'daily'`);

    // Downgrade to advanced: daily and weekly are switched off (kept, inactive), monthly stays.
    await db.execute(sql`update tenant_subscriptions set tier_id = 'advanced' where tenant_id = 'new-co'`);
    r = await reconcileSchedules(db, stack.config);
    assert.equal(r.schedulesDeactivated, 2);
    assert.deepEqual((await schedules()).map((s) => [s.schedule_type, s.is_active, s.is_paused]), [
      ['daily', false, true],
      ['monthly', true, false],
      ['weekly', false, false],
    ]);
    await db.execute(sql`update backup_schedules set next_run_at = now() - interval '1 hour'`);
    const fired = await tick(db, stack.config);
    assert.deepEqual(fired.fired.map((g) => g.scheduleTypes), [['monthly']], 'inactive schedules never fire');

    // Upgrade again: back from the next slot on, the pause kept.
    await db.execute(sql`delete from backup_jobs`);
    await db.execute(sql`update tenant_subscriptions set tier_id = 'premium' where tenant_id = 'new-co'`);
    r = await reconcileSchedules(db, stack.config);
    assert.equal(r.schedulesReactivated, 2);
    const back = await schedules();
    assert.ok(back.every((s) => s.is_active));
    assert.equal(back.find((s) => s.schedule_type === 'daily')!.is_paused, true);
    assert.ok((back.find((s) => s.schedule_type === 'weekly')!.next_run_at as Date).getTime() > Date.now());

    // The app deletes the tenant: removed_at recorded, schedules gone.
    await db.execute(sql`delete from tenants where id = 'new-co'`);
    r = await reconcileSchedules(db, stack.config);
    assert.deepEqual(r.tenantsRemoved, ['new-co']);
    assert.equal(r.schedulesDeleted, 3);
    assert.ok((await states())[0]!.removed_at !== null);
    assert.deepEqual(await reconcileSchedules(db, stack.config).then((x) => x.tenantsRemoved), []);
  });

  it('fires each due schedule exactly once with many concurrent tickers', async () => {
    const ids = Array.from({ length: 60 }, (_, i) => `c${i}`);
    await addTinyTenants(db, ids, { plan: 'premium', rows: 1 });
    await reconcileSchedules(db, stack.config);
    // All three schedules of every tenant due a day ago: each tenant's three fire as one dump group.
    await makeDue(db, 86_400);
    // Eight tickers, each on its own connection pool, like eight workers.
    const pools = Array.from({ length: 8 }, (_, i) => getDb(`${stack.config.DATABASE_URL}${stack.config.DATABASE_URL.includes('?') ? '&' : '?'}application_name=ticker${i}`));
    const results = await Promise.all(pools.map((p) => tick(p, stack.config)));
    const groups = results.flatMap((r) => r.fired);
    assert.equal(groups.length, 60, 'one dump group per tenant');
    const rows = (await db.execute<{ tenant_id: string; origin: string; dump_group: string }>(sql`select tenant_id, origin, dump_group::text from backup_jobs`)).rows;
    assert.equal(rows.length, 180, 'one backup per schedule');
    const perSchedule = new Map<string, number>();
    for (const r of rows) perSchedule.set(`${r.tenant_id}/${r.origin}`, (perSchedule.get(`${r.tenant_id}/${r.origin}`) ?? 0) + 1);
    assert.ok([...perSchedule.values()].every((n) => n === 1));
    assert.equal(new Set(rows.map((r) => r.dump_group)).size, 60);
    const s = await schedules();
    assert.ok(s.every((x) => (x.next_run_at as Date).getTime() > Date.now() && x.last_run_at instanceof Date));
    // Nothing is due any more; the tenants are busy anyway.
    assert.deepEqual((await tick(db, stack.config)).fired, []);
  });

  it('coinciding schedules share one dump group; later ones stay', async () => {
    await addTinyTenants(db, ['co'], { plan: 'premium' });
    await reconcileSchedules(db, stack.config);
    const window = stack.config.STRATA_SCHEDULE_WINDOW_MINUTES;
    await db.execute(sql`update backup_schedules set next_run_at = now() - interval '1 minute' where schedule_type = 'daily'`);
    await db.execute(sql`update backup_schedules set next_run_at = now() + interval '30 minutes' where schedule_type = 'weekly'`);
    await db.execute(sql`update backup_schedules set next_run_at = now() + make_interval(mins => ${window + 30}) where schedule_type = 'monthly'`);
    const before = await schedules();
    const group = await fireTenant(db, stack.config, 'co');
    assert.ok(group);
    assert.deepEqual(group.scheduleTypes.sort(), ['daily', 'weekly']);
    const rows = (await db.execute<{ origin: string; storage_tier: string; requested_by: string; tier_id: string; status: string }>(sql`
      select origin, storage_tier, requested_by, tier_id, status from backup_jobs order by origin`)).rows;
    assert.deepEqual(rows, [
      { origin: 'daily', storage_tier: 's3_standard', requested_by: 'scheduler', tier_id: 'premium', status: 'pending' },
      { origin: 'weekly', storage_tier: 's3_ia', requested_by: 'scheduler', tier_id: 'premium', status: 'pending' },
    ]);
    const after = await schedules();
    const weeklyBefore = before.find((s) => s.schedule_type === 'weekly')!.next_run_at as Date;
    const weeklyAfter = after.find((s) => s.schedule_type === 'weekly')!.next_run_at as Date;
    const offset = tenantOffsetMinutes('co', window);
    assert.equal(weeklyAfter.getTime(), nextRunAt('weekly', offset, weeklyBefore, stack.config.STRATA_TIMEZONE).getTime(), 'the weekly moves to its next slot');
    assert.deepEqual(after.find((s) => s.schedule_type === 'monthly')!.next_run_at, before.find((s) => s.schedule_type === 'monthly')!.next_run_at);
  });

  it('a busy tenant waits; a 3-day outage gives one catch-up run', async () => {
    await addTinyTenants(db, ['busy'], { plan: 'advanced' });
    await reconcileSchedules(db, stack.config);
    await db.execute(sql`update backup_schedules set next_run_at = now() - interval '3 days'`);
    await db.execute(sql`insert into backup_jobs (tenant_id, storage_tier, origin, status) values ('busy', 's3_standard', 'manual', 'running')`);
    let r = await tick(db, stack.config);
    assert.deepEqual(r.fired, []);
    assert.deepEqual(r.busy, ['busy']);
    assert.ok(((await schedules())[0]!.next_run_at as Date).getTime() < Date.now(), 'still due');

    await db.execute(sql`update backup_jobs set status = 'completed'`);
    r = await tick(db, stack.config);
    assert.equal(r.fired.length, 1);
    const s = (await schedules())[0]!;
    const next = s.next_run_at as Date;
    assert.ok(next.getTime() > Date.now(), 'next_run_at jumps to the next future slot');
    assert.equal(next.getTime(), nextRunAt('monthly', tenantOffsetMinutes('busy', stack.config.STRATA_SCHEDULE_WINDOW_MINUTES), new Date(next.getTime() - 1), stack.config.STRATA_TIMEZONE).getTime());
    await db.execute(sql`update backup_jobs set status = 'completed'`);
    r = await tick(db, stack.config);
    assert.deepEqual(r.fired, [], 'no second catch-up run');
    const count = (await db.execute<{ n: number }>(sql`select count(*)::int n from backup_jobs where origin = 'monthly'`)).rows[0]!.n;
    assert.equal(count, 1);
  });
});
