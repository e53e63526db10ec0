// Fire due schedules (docs/design.md "Schedules"), exactly once across all workers.
// Per tenant, in one transaction: a compare-and-set UPDATE moves every schedule that fires from the
// next_run_at it was read with to its next calendar slot (graphile-worker cron: a concurrent
// ticker's UPDATE matches nothing), then one backup row per stored copy is queued under one
// dump_group (the backup point): the plan's layout planned over the fired origins, one object per
// storage tier with the longest keep (lib/retention/layouts.ts). "Due" and "now" are the database clock's. A tenant with a backup still queued or
// running is busy: its schedules stay due until it is free.
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { platformTenantsSql } from '../db/platform.ts';
import type { Layout, ScheduleType, StorageTier } from '../domain.ts';
import type { Config } from '../env.ts';
import { pgTime } from '../jobs/pg-time.ts';
import { copiesFor, isLayout, planCopies } from '../retention/layouts.ts';
import { scheduledBackupType } from '../retention/policies.ts';
import { nextRunAt } from '../schedule/next-run.ts';
import { tenantOffsetMinutes } from '../schedule/offset.ts';

export interface FiredGroup {
  tenantId: string;
  dumpGroup: string;
  backupIds: string[];
  scheduleTypes: ScheduleType[];
}

export interface TickResult {
  fired: FiredGroup[];
  /** Tenants with a due schedule that wait for their running or queued backup. */
  busy: string[];
}

export interface TickOptions {
  /** At most this many tenants per tick (default 500). */
  limit?: number;
}

interface DueSchedule extends Record<string, unknown> {
  id: number;
  schedule_type: ScheduleType;
  storage_tier: StorageTier;
  next_run_at: string;
  /** next_run_at to the microsecond (a JS Date keeps milliseconds only) for the compare-and-set. */
  expected: string;
  now: string;
}

const BUSY = sql`exists (select 1 from backup_jobs b where b.tenant_id = s.tenant_id and b.status in ('pending', 'running'))`;

export async function tick(db: Db, config: Config, opts: TickOptions = {}): Promise<TickResult> {
  const due = await db.execute<{ tenant_id: string; busy: boolean }>(sql`
    select s.tenant_id, bool_or(${BUSY}) as busy from backup_schedules s
    where s.is_active and not s.is_paused and s.next_run_at <= now()
    group by s.tenant_id
    order by min(s.next_run_at)
    limit ${opts.limit ?? 500}`);
  const result: TickResult = { fired: [], busy: due.rows.filter((r) => r.busy).map((r) => r.tenant_id) };
  for (const { tenant_id: tenantId } of due.rows.filter((r) => !r.busy)) {
    const group = await fireTenant(db, config, tenantId);
    if (group) result.fired.push(group);
  }
  return result;
}

/** Fires the tenant's due schedules and those joining them; null when there was nothing to do. */
export async function fireTenant(db: Db, config: Config, tenantId: string): Promise<FiredGroup | null> {
  return db.transaction(async (tx) => {
    // Tickers of one tenant take turns: the busy check and the enqueue must not interleave.
    const lock = await tx.execute<{ ok: boolean }>(
      sql`select pg_try_advisory_xact_lock(hashtext('strata.tick'), hashtext(${tenantId})) as ok`,
    );
    if (!lock.rows[0]?.ok) return null;
    const busy = await tx.execute(sql`select 1 from backup_jobs where tenant_id = ${tenantId} and status in ('pending', 'running') limit 1`);
    if (busy.rows.length > 0) return null;
    const plan = await tx.execute<PlanPolicy>(sql`
      select t.tier_id, p.layout, coalesce(p.incremental_origins, '{}') as incremental_origins, coalesce(p.files_origins, '{}') as files_origins, p.daily_retention_days as daily, p.weekly_retention_weeks as weekly,
        p.monthly_retention_months as monthly
      from ${platformTenantsSql} t
        left join backup_retention_policies p on p.tier_id = t.tier_id
      where t.id = ${tenantId}`);
    if (plan.rows.length === 0) return null; // gone from the platform: reconciliation removes its schedules

    // Every schedule due now, and every other one due within the window, goes into this dump.
    const window = config.STRATA_SCHEDULE_WINDOW_MINUTES;
    const candidates = (
      await tx.execute<DueSchedule>(sql`
        select id, schedule_type, storage_tier, next_run_at, to_json(next_run_at) #>> '{}' as expected, now() as now
        from backup_schedules
        where tenant_id = ${tenantId} and is_active and not is_paused
          and next_run_at <= now() + make_interval(mins => ${window})
        order by next_run_at`)
    ).rows;
    if (candidates.length === 0) return null;
    const now = pgTime(candidates[0]!.now);
    if (!candidates.some((c) => pgTime(c.next_run_at).getTime() <= now.getTime())) return null;

    const offset = tenantOffsetMinutes(tenantId, window);
    const moves = candidates.map((c) => ({
      id: c.id,
      expected: c.expected,
      // The next calendar slot after now (an overdue schedule runs once) or, for a schedule joining
      // early, after the slot it is running in place of.
      next: nextRunAt(c.schedule_type, offset, new Date(Math.max(now.getTime(), pgTime(c.next_run_at).getTime())), config.STRATA_TIMEZONE).toISOString(),
    }));
    const fired = await tx.execute<{ schedule_type: ScheduleType; storage_tier: StorageTier; was_due: boolean }>(sql`
      update backup_schedules s set last_run_at = now(), next_run_at = v.next, updated_at = now()
      from jsonb_to_recordset(${JSON.stringify(moves)}::jsonb) as v(id int, expected timestamptz, next timestamptz)
      where s.id = v.id and s.next_run_at = v.expected and s.is_active and not s.is_paused
      returning s.schedule_type, s.storage_tier, (v.expected <= now()) as was_due`);
    if (!fired.rows.some((r) => r.was_due)) {
      // Someone else fired the due one between our read and our update: undo the joiners too.
      throw new Rollback();
    }

    const rows = storedCopies(fired.rows, plan.rows[0]!, now);
    // One dump: incremental only when every origin it stands for is one of the plan's incremental origins.
    const backupType = scheduledBackupType(fired.rows.map((r) => r.schedule_type), plan.rows[0]!.incremental_origins);
    // Files go with the point when any origin it stands for includes them (the policy's files_origins).
    const includeFiles = fired.rows.some((r) => plan.rows[0]!.files_origins.includes(r.schedule_type));
    const inserted = await tx.execute<{ id: string; dump_group: string }>(sql`
      with grp as (select gen_random_uuid() as dump_group)
      insert into backup_jobs (tenant_id, tier_id, storage_tier, origin, dump_group, requested_by, layout, backup_type, include_files)
      select ${tenantId}, ${plan.rows[0]!.tier_id}, x.storage_tier, x.origin, grp.dump_group, 'scheduler', x.layout, ${backupType}, ${includeFiles}
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(origin text, storage_tier text, layout text), grp
      returning id::text, dump_group::text`);
    return {
      tenantId,
      dumpGroup: inserted.rows[0]!.dump_group,
      backupIds: inserted.rows.map((r) => r.id),
      scheduleTypes: fired.rows.map((r) => r.schedule_type),
    };
  }).catch((err: unknown) => {
    if (err instanceof Rollback) return null;
    throw err;
  });
}

class Rollback extends Error {}

interface PlanPolicy extends Record<string, unknown> {
  tier_id: string | null;
  layout: string | null;
  incremental_origins: string[];
  files_origins: string[];
  daily: number | null;
  weekly: number | null;
  monthly: number | null;
}

/**
 * The objects this backup point is stored as: the plan's layout planned over the fired origins
 * (one object per storage tier, the longest keep winning). Without a policy row (plan unknown),
 * each fired schedule's own storage tier, as before layouts.
 */
function storedCopies(
  fired: { schedule_type: ScheduleType; storage_tier: StorageTier }[],
  plan: PlanPolicy,
  now: Date,
): { origin: ScheduleType; storage_tier: StorageTier; layout: Layout | null }[] {
  if (plan.daily === null || !isLayout(plan.layout)) {
    return fired.map((r) => ({ origin: r.schedule_type, storage_tier: r.storage_tier, layout: null }));
  }
  const policy = { layout: plan.layout, dailyRetentionDays: plan.daily, weeklyRetentionWeeks: plan.weekly ?? 0, monthlyRetentionMonths: plan.monthly ?? 0 };
  const planned = planCopies(fired.map((r) => r.schedule_type), policy, now);
  // A schedule the layout gives no copy (its window is 0 but reconciliation has not caught up yet)
  // still stores where its row says, so a fired schedule never produces nothing.
  const layout = copiesFor(policy.layout, policy);
  const extra = fired
    .filter((r) => layout[r.schedule_type].length === 0 && !planned.some((c) => c.storageTier === r.storage_tier))
    .map((r) => ({ origin: r.schedule_type, storage_tier: r.storage_tier, layout: null }));
  return [...planned.map((c) => ({ origin: c.origin, storage_tier: c.storageTier, layout: policy.layout })), ...extra];
}
