// Make backup_schedules follow the platform tables (docs/design.md "Schedules", "Tables"): each
// tenant's plan policy decides its schedules; tenants that vanished from `tenants` are recorded as
// removed and lose their schedules. Writes only what differs, so reconciling twice changes nothing,
// and never touches is_paused or the next_run_at of a schedule that stays.
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { platformTenantsSql } from '../db/platform.ts';
import type { ScheduleType } from '../domain.ts';
import type { Config } from '../env.ts';
import { pgTime } from '../jobs/pg-time.ts';
import { nextRunAt } from '../schedule/next-run.ts';
import { tenantOffsetMinutes } from '../schedule/offset.ts';
import { schedulesForPolicy } from '../schedule/policy.ts';
import { isLayout } from '../retention/layouts.ts';

export interface ReconcileResult {
  /** False when another worker was reconciling at that moment (its result stands). */
  ran: boolean;
  schedulesCreated: number;
  schedulesReactivated: number;
  schedulesDeactivated: number;
  schedulesDeleted: number;
  tenantsAdded: string[];
  tenantsRemoved: string[];
}

interface TenantRow extends Record<string, unknown> {
  id: string;
  name: string;
  schema_name: string;
  tier_id: string | null;
  daily: number | null;
  weekly: number | null;
  monthly: number | null;
  layout: string | null;
}

interface ScheduleRowLite extends Record<string, unknown> {
  id: number;
  tenant_id: string;
  schedule_type: ScheduleType;
  storage_tier: string;
  is_active: boolean;
}

const EMPTY: Omit<ReconcileResult, 'ran'> = {
  schedulesCreated: 0,
  schedulesReactivated: 0,
  schedulesDeactivated: 0,
  schedulesDeleted: 0,
  tenantsAdded: [],
  tenantsRemoved: [],
};

export async function reconcileSchedules(db: Db, config: Config, now?: Date): Promise<ReconcileResult> {
  return db.transaction(async (tx) => {
    // One reconciler at a time; the others skip (the next pass is ~30 s away anyway).
    const lock = await tx.execute<{ ok: boolean }>(sql`select pg_try_advisory_xact_lock(hashtext('strata.reconcile')) as ok`);
    if (!lock.rows[0]?.ok) return { ran: false, ...EMPTY, tenantsAdded: [], tenantsRemoved: [] };
    const at = now ?? pgTime((await tx.execute<{ now: string }>(sql`select now() as now`)).rows[0]!.now);
    const result: ReconcileResult = { ran: true, ...EMPTY, tenantsAdded: [], tenantsRemoved: [] };

    const tenants = (
      await tx.execute<TenantRow>(sql`
        select t.id, t.name, t.schema_name, t.tier_id,
          p.daily_retention_days as daily, p.weekly_retention_weeks as weekly, p.monthly_retention_months as monthly, p.layout
        from ${platformTenantsSql} t
        left join backup_retention_policies p on p.tier_id = t.tier_id`)
    ).rows;

    // tenant_state: new tenants get a row, known ones their last catalog facts, returning ones lose removed_at.
    const added = await tx.execute<{ tenant_id: string; inserted: boolean }>(sql`
      insert into tenant_state (tenant_id, name, schema_name, tier_id)
      select * from jsonb_to_recordset(${JSON.stringify(tenants.map((t) => ({ tenant_id: t.id, name: t.name, schema_name: t.schema_name, tier_id: t.tier_id })))}::jsonb)
        as x(tenant_id text, name text, schema_name text, tier_id text)
      on conflict (tenant_id) do update set name = excluded.name, schema_name = excluded.schema_name,
        tier_id = excluded.tier_id, removed_at = null
      where (tenant_state.name, tenant_state.schema_name, tenant_state.tier_id, tenant_state.removed_at)
        is distinct from (excluded.name, excluded.schema_name, excluded.tier_id, null)
      returning tenant_id, (xmax = 0) as inserted`);
    result.tenantsAdded = added.rows.filter((r) => r.inserted).map((r) => r.tenant_id);

    // Tenants gone from the platform: removed_at recorded once, their schedules deleted.
    const ids = sql`(select jsonb_array_elements_text(${JSON.stringify(tenants.map((t) => t.id))}::jsonb))`;
    const removed = await tx.execute<{ tenant_id: string }>(sql`
      update tenant_state set removed_at = ${at}
      where removed_at is null and tenant_id not in ${ids}
      returning tenant_id`);
    result.tenantsRemoved = removed.rows.map((r) => r.tenant_id);
    const orphaned = await tx.execute(sql`delete from backup_schedules where tenant_id not in ${ids}`);
    result.schedulesDeleted = orphaned.rowCount ?? 0;

    const existing = (
      await tx.execute<ScheduleRowLite>(sql`select id, tenant_id, schedule_type, storage_tier, is_active from backup_schedules`)
    ).rows;
    const byKey = new Map(existing.map((s) => [`${s.tenant_id}\u0000${s.schedule_type}`, s]));

    for (const t of tenants) {
      const wanted =
        t.daily === null
          ? []
          : schedulesForPolicy({
              dailyRetentionDays: t.daily,
              weeklyRetentionWeeks: t.weekly ?? 0,
              monthlyRetentionMonths: t.monthly ?? 0,
              layout: isLayout(t.layout) ? t.layout : 'seed',
            });
      const offset = tenantOffsetMinutes(t.id, config.STRATA_SCHEDULE_WINDOW_MINUTES);
      const wantedTypes = new Set(wanted.map((w) => w.scheduleType));
      for (const w of wanted) {
        const cur = byKey.get(`${t.id}\u0000${w.scheduleType}`);
        const next = nextRunAt(w.scheduleType, offset, at, config.STRATA_TIMEZONE);
        if (!cur) {
          await tx.execute(sql`
            insert into backup_schedules (tenant_id, schedule_type, storage_tier, next_run_at)
            values (${t.id}, ${w.scheduleType}, ${w.storageTier}, ${next})
            on conflict (tenant_id, schedule_type) do nothing`);
          result.schedulesCreated++;
        } else if (!cur.is_active || cur.storage_tier !== w.storageTier) {
          // Back in the plan: from the next slot on (a schedule that was off owes nothing).
          await tx.execute(sql`
            update backup_schedules set is_active = true, storage_tier = ${w.storageTier}, updated_at = now(),
              next_run_at = case when is_active then next_run_at else ${next} end
            where id = ${cur.id}`);
          result.schedulesReactivated++;
        }
      }
      for (const s of existing) {
        if (s.tenant_id === t.id && s.is_active && !wantedTypes.has(s.schedule_type)) {
          await tx.execute(sql`update backup_schedules set is_active = false, updated_at = now() where id = ${s.id}`);
          result.schedulesDeactivated++;
        }
      }
    }
    return result;
  });
}
