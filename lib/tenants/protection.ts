// Each tenant's protection at a glance: plan, newest completed backup, RPO status (docs/design.md
// "Overdue"), last outcome and what it stores. The one implementation behind `strata tenant list`
// (which prints id, name, schema_name, tier, last_backup_at, status) and every dashboard page.
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { planLabel, platformTenantsSql } from '../db/platform.ts';
import type { ScheduleType } from '../domain.ts';
import type { Config } from '../env.ts';
import { isoUtc } from '../iso.ts';
import { nextRunAt } from '../schedule/next-run.ts';
import { tenantOffsetMinutes } from '../schedule/offset.ts';
import { overdueStatus, SCHEDULE_PERIOD_MS, type RpoStatus } from '../schedule/rpo.ts';

export interface TenantProtection {
  id: string;
  name: string;
  schema_name: string;
  /** The plan (docs/design.md: `tier` always means a plan); a tier id Strata does not know counts as basic. */
  tier: string | null;
  /** The application's tenant_subscriptions.tier_id as written (differs from tier for an unknown plan). */
  subscription_tier_id: string | null;
  /** False when the application names a tier that is not one of Strata's plans (shown as "unknown plan"). */
  plan_known: boolean;
  /** started_at of the newest completed backup (latest by started_at, then id). */
  last_backup_at: string | null;
  last_backup_id: string | null;
  status: RpoStatus;
  /** Overdue from just after this instant (null: paused or not protected by plan). */
  overdue_after: string | null;
  /** The latest finished backup failed. */
  failing: boolean;
  last_error: string | null;
  /** Completed backups and their stored bytes. */
  stored_bytes: number;
  backup_count: number;
}

type Row = {
  id: string;
  name: string;
  schema_name: string;
  tier: string | null;
  subscription_tier_id: string | null;
  // Raw SQL through Drizzle returns timestamps as text.
  first_seen_at: string | null;
  last_backup_at: string | null;
  last_backup_id: string | null;
  last_status: string | null;
  last_error: string | null;
  stored_bytes: string | number | null;
  backup_count: number | null;
  schedules: { type: ScheduleType; paused: boolean; created_at: string }[] | null;
};

export async function tenantProtection(
  db: Db,
  config: Pick<Config, 'STRATA_SCHEDULE_WINDOW_MINUTES' | 'STRATA_TIMEZONE' | 'STRATA_RPO_GRACE_HOURS'>,
  opts: { tenantId?: string; now?: Date } = {}): Promise<TenantProtection[]> {
  const now = opts.now ?? new Date();
  const where = opts.tenantId === undefined ? sql`` : sql`where t.id = ${opts.tenantId}`;
  const res = await db.execute<Row>(sql`
    select t.id, t.name, t.schema_name, t.tier_id as tier, t.subscription_tier_id, ts.first_seen_at,
      newest.started_at as last_backup_at, newest.id::text as last_backup_id,
      last.status as last_status, last.error_message as last_error,
      stored.bytes as stored_bytes, stored.n as backup_count,
      (select json_agg(json_build_object('type', bs.schedule_type, 'paused', bs.is_paused, 'created_at', bs.created_at))
        from backup_schedules bs where bs.tenant_id = t.id and bs.is_active) as schedules
    from ${platformTenantsSql} t
    left join tenant_state ts on ts.tenant_id = t.id
    left join lateral (select b.id, b.started_at from backup_jobs b where b.tenant_id = t.id and b.status = 'completed'
                       order by b.started_at desc nulls last, b.id desc limit 1) newest on true
    left join lateral (select b.status, b.error_message from backup_jobs b where b.tenant_id = t.id and b.status in ('completed', 'failed')
                       order by b.created_at desc nulls last, b.seq desc nulls last limit 1) last on true
    left join lateral (select coalesce(sum(b.backup_size_bytes), 0)::bigint as bytes, count(*)::int as n from backup_jobs b
                       where b.tenant_id = t.id and b.status = 'completed') stored on true
    ${where}
    order by t.id`);
  const windowMs = config.STRATA_SCHEDULE_WINDOW_MINUTES * 60_000;
  return res.rows.map((r) => {
    const offset = tenantOffsetMinutes(r.id, config.STRATA_SCHEDULE_WINDOW_MINUTES);
    const newest = r.last_backup_at ? new Date(r.last_backup_at).getTime() : null;
    const rpo = overdueStatus({
      schedules: (r.schedules ?? []).map((s) => {
        // Before reconciliation records first_seen_at, the schedule's creation stands in for it.
        const created = new Date(r.first_seen_at ?? s.created_at ?? now);
        // The first slot only matters while it could be later than the newest backup. It is at most
        // one period + the window (+ an hour for DST) after creation: past that, skip the calendar
        // math (the dashboard lists every tenant) and give a bound that changes nothing.
        const bound = created.getTime() + SCHEDULE_PERIOD_MS[s.type] + windowMs + 3_600_000;
        const firstSlot = newest !== null && newest >= bound ? created : nextRunAt(s.type, offset, created, config.STRATA_TIMEZONE);
        return { scheduleType: s.type, isPaused: s.paused, firstSlot };
      }),
      newestCompletedStartedAt: r.last_backup_at ? new Date(r.last_backup_at) : null,
      now,
      graceHours: config.STRATA_RPO_GRACE_HOURS,
    });
    return {
      id: r.id,
      name: r.name,
      schema_name: r.schema_name,
      tier: r.tier,
      subscription_tier_id: r.subscription_tier_id,
      plan_known: r.subscription_tier_id === null || r.subscription_tier_id === r.tier,
      last_backup_at: isoUtc(r.last_backup_at),
      last_backup_id: r.last_backup_id,
      status: rpo.status,
      overdue_after: isoUtc(rpo.deadline),
      failing: r.last_status === 'failed',
      last_error: r.last_status === 'failed' ? r.last_error : null,
      stored_bytes: Number(r.stored_bytes ?? 0),
      backup_count: Number(r.backup_count ?? 0),
    };
  });
}

/** The plan as people read it: "unknown plan (gold), treated as basic" for a tier Strata does not know. */
export function tierLabel(t: Pick<TenantProtection, 'tier' | 'subscription_tier_id'>): string {
  return planLabel(t.tier, t.subscription_tier_id);
}
