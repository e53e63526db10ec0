// Changing a plan's preset (design.md "Retention"): `strata policy set --preset`, the dashboard's
// policy editor and their previews all call changeLayout; a preview is the same call with dryRun,
// which computes everything saving would do and writes nothing. A preset is a copy layout plus the
// origins backed up incrementally (presetIncrementalOrigins; the CLI's --incremental overrides them),
// saved together. It applies to new backups: existing copies keep their stores, expiries and types
// (each copy carries the layout it was planned with), so it deletes nothing by itself. Audited.
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { platformTenantsSql } from '../../db/platform.ts';
import { backupJobs, backupRetentionPolicies } from '../../db/schema.ts';
import { PLANS, SCHEDULE_TYPES, STORAGE_TIERS, type BackupType, type Layout, type Plan, type ScheduleType, type StorageTier } from '../../domain.ts';
import type { Config } from '../../env.ts';
import { audit } from '../../audit.ts';
import { simulateFleet } from '../../cost/simulate.ts';
import type { PriceTable } from '../../cost/prices.ts';
import { copiesFor, keepText, presetIncrementalOrigins, storesFor, type CopyLayout } from '../../retention/layouts.ts';
import { backupTypesByOrigin, type RetentionWindows } from '../../retention/policies.ts';
import { schedulesForPolicy } from '../../schedule/policy.ts';
import { reconcileSchedules, type ReconcileResult } from '../../scheduler/reconcile.ts';
import { notFound } from '../errors.ts';

/** snake_case: printed as-is by `strata policy set --json`. */
export interface LayoutChange {
  plan: string;
  from: Layout;
  to: Layout;
  dry_run: boolean;
  /** Active tenants on the plan: their schedules follow the new layout. */
  tenants: number;
  copies: { before: CopyLayout; after: CopyLayout };
  /** Full or incremental per origin, before and after: the preset's own unless named (--incremental). */
  backup_types: { before: Record<ScheduleType, BackupType>; after: Record<ScheduleType, BackupType> };
  stores: { before: StorageTier[]; after: StorageTier[] };
  /** Each schedule of the plan: where its backups were stored and where they will be. */
  schedules: { schedule_type: string; before: string[]; after: string[] }[];
  /**
   * A month once every copy follows the layout (steady state), for the plan's tenants at the size
   * of their newest stored backup: `strata cost simulate` over the plan's policy, incremental
   * origins priced at daily_change_percent.
   */
  monthly_cost: {
    before_dollars: number;
    after_dollars: number;
    all_standard_dollars: number;
    tenants: number;
    mean_stored_gb: number;
    daily_change_percent: number;
  };
  /** When new backups' copies are deleted: one line per copy. */
  new_backups_deleted: { origin: string; storage_tier: StorageTier; after: string }[];
  /** Existing copies of the plan's backups: kept in their stores until their recorded expiry. */
  existing_copies: { storage_tier: StorageTier; copies: number; stored_bytes: number; last_expires_at: string | null }[];
  /** Set once saved. */
  schedules_reconciled?: ReconcileResult | null;
}

const describeCopies = (layout: CopyLayout, origin: keyof CopyLayout) =>
  layout[origin].map((c) => `${c.storage_tier} ${keepText(c.keep)}`);

export async function changeLayout(
  db: Db,
  config: Config,
  input: { plan: string; layout: Layout; incrementalOrigins?: ScheduleType[]; actor: string; dryRun: boolean; prices?: PriceTable; now?: Date },
): Promise<LayoutChange> {
  const origins = SCHEDULE_TYPES.filter((o) => (input.incrementalOrigins ?? presetIncrementalOrigins(input.layout)).includes(o));
  const change = await db.transaction(async (tx) => {
    const [policy] = await tx.select().from(backupRetentionPolicies).where(eq(backupRetentionPolicies.tierId, input.plan)).for('update');
    if (!policy) throw notFound(`plan ${input.plan} has no retention policy`);
    const preview = { ...(await layoutPreview(tx as unknown as Db, policy, input.layout, origins, input.prices)), dry_run: input.dryRun };
    if (input.dryRun || unchanged(preview)) return preview;
    await tx
      .update(backupRetentionPolicies)
      .set({ layout: input.layout, incrementalOrigins: origins, updatedAt: sql`now()` })
      .where(eq(backupRetentionPolicies.tierId, input.plan));
    await audit(tx, {
      actor: input.actor,
      action: 'policy.layout',
      target: input.plan,
      details: {
        from: policy.layout,
        to: input.layout,
        stores_before: preview.stores.before,
        stores_after: preview.stores.after,
        backup_types_before: preview.backup_types.before,
        backup_types_after: preview.backup_types.after,
        monthly_cost_before_dollars: Number(preview.monthly_cost.before_dollars.toFixed(2)),
        monthly_cost_after_dollars: Number(preview.monthly_cost.after_dollars.toFixed(2)),
      },
    });
    return preview;
  });
  if (input.dryRun || unchanged(change)) return change;
  // Schedules follow now (their first copy's storage tier); if this fails the worker's next pass does it.
  const reconciled = await reconcileSchedules(db, config).catch((err: unknown) => {
    console.error('[strata] reconciling schedules after a layout change failed:', err);
    return null;
  });
  return { ...change, schedules_reconciled: reconciled };
}

type PolicyRow = typeof backupRetentionPolicies.$inferSelect;

/** Same layout and same backup types: saving writes nothing. */
export const unchanged = (c: Pick<LayoutChange, 'from' | 'to' | 'backup_types'>) =>
  c.from === c.to && JSON.stringify(c.backup_types.before) === JSON.stringify(c.backup_types.after);

/** The daily change the preview prices incremental copies with (`strata cost simulate`'s default). */
const PREVIEW_DAILY_CHANGE_PERCENT = 1;

async function layoutPreview(db: Db, policy: PolicyRow, to: Layout, toIncremental: ScheduleType[], prices?: PriceTable): Promise<LayoutChange> {
  const windows: RetentionWindows = policy;
  const before = copiesFor(policy.layout, windows);
  const after = copiesFor(to, windows);
  const scheduleTypes = schedulesForPolicy(windows).map((s) => s.scheduleType);

  // The platform's tenants on this plan (lib/db/platform.ts: the contract's columns only, as text).
  const planTenants = (
    await db.execute<{ id: string }>(sql`select t.id from ${platformTenantsSql} t where t.tier_id = ${policy.tierId}`)
  ).rows.map((t) => t.id);
  // The size of each tenant's newest stored backup: what next month's copies will weigh.
  const newest =
    planTenants.length === 0
      ? []
      : (
          await db.execute<{ bytes: string | null }>(sql`
            select distinct on (tenant_id) backup_size_bytes as bytes from backup_jobs
            where status = 'completed' and tenant_id in (select jsonb_array_elements_text(${JSON.stringify(planTenants)}::jsonb))
            order by tenant_id, started_at desc, id`)
        ).rows;
  const meanGb = newest.length === 0 ? 0 : newest.reduce((n, r) => n + Number(r.bytes ?? 0), 0) / newest.length / 2 ** 30;
  const cost = (layout: Layout, incrementalOrigins: ScheduleType[]) => {
    if (planTenants.length === 0 || meanGb === 0 || scheduleTypes.length === 0) return { monthly: 0, standard: 0 };
    const plan: Plan = (PLANS as readonly string[]).includes(policy.tierId) ? (policy.tierId as Plan) : 'basic';
    // One tenant's steady state, times the tenants: a simulation's cost is linear in both.
    const s = simulateFleet({
      tenants: 1,
      sizeGb: meanGb,
      plan,
      policy: windows,
      layout,
      incrementalOrigins,
      dailyChangePercent: PREVIEW_DAILY_CHANGE_PERCENT,
      months: 25,
      prices,
    }).summary;
    return { monthly: s.steady_state_monthly_dollars * planTenants.length, standard: s.all_standard_monthly_dollars * planTenants.length };
  };
  const fromIncremental = SCHEDULE_TYPES.filter((o) => policy.incrementalOrigins.includes(o));
  const costBefore = cost(policy.layout, fromIncremental);
  const costAfter = cost(to, toIncremental);

  const existing = await db
    .select({
      storageTier: backupJobs.storageTier,
      copies: sql<number>`count(*)::int`,
      bytes: sql<string>`coalesce(sum(${backupJobs.backupSizeBytes}), 0)::text`,
      last: sql<string | null>`max(${backupJobs.expiresAt})::text`,
    })
    .from(backupJobs)
    .where(and(eq(backupJobs.tierId, policy.tierId), inArray(backupJobs.status, ['completed'])))
    .groupBy(backupJobs.storageTier);

  return {
    plan: policy.tierId,
    from: policy.layout,
    to,
    dry_run: true,
    tenants: planTenants.length,
    copies: { before, after },
    backup_types: { before: backupTypesByOrigin(fromIncremental), after: backupTypesByOrigin(toIncremental) },
    stores: { before: storesFor(policy.layout, windows), after: storesFor(to, windows) },
    schedules: scheduleTypes.map((t) => ({ schedule_type: t, before: describeCopies(before, t), after: describeCopies(after, t) })),
    monthly_cost: {
      before_dollars: costBefore.monthly,
      after_dollars: costAfter.monthly,
      all_standard_dollars: costAfter.standard,
      tenants: planTenants.length,
      mean_stored_gb: meanGb,
      daily_change_percent: PREVIEW_DAILY_CHANGE_PERCENT,
    },
    new_backups_deleted: scheduleTypes.flatMap((origin) =>
      after[origin].map((c) => ({ origin, storage_tier: c.storage_tier, after: `${keepText(c.keep)} after it completes` })),
    ),
    existing_copies: STORAGE_TIERS.flatMap((t) => {
      const row = existing.find((e) => e.storageTier === t);
      return row ? [{ storage_tier: t, copies: row.copies, stored_bytes: Number(row.bytes), last_expires_at: row.last ? new Date(row.last).toISOString() : null }] : [];
    }),
  };
}

/** What `strata policy show` and the policies page print for one plan. */
export function describePolicy(p: PolicyRow) {
  const copies = copiesFor(p.layout, p);
  return {
    tier_id: p.tierId,
    daily_retention_days: p.dailyRetentionDays,
    weekly_retention_weeks: p.weeklyRetentionWeeks,
    monthly_retention_months: p.monthlyRetentionMonths,
    layout: p.layout,
    /** Full or incremental, per origin (design.md "Incremental backups"). */
    backup_types: backupTypesByOrigin(p.incrementalOrigins),
    /** The origins whose backups include the tenant's files (design.md "Tenant files"). */
    files_origins: p.filesOrigins,
    copies,
    stores: storesFor(p.layout, p),
    updated_at: p.updatedAt.toISOString(),
  };
}
