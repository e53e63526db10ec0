// The dashboard's cost figures: the run-rate (run-rate.ts: the same numbers `strata cost` prints) with the
// configured price table, for this month and month by month for the chart.
import type { Db } from '../db/client.ts';
import { platformTenantsSql } from '../db/platform.ts';
import type { Config } from '../env.ts';
import type { StorageTier } from '../domain.ts';
import { billingMonthOf } from '../cost/model.ts';
import type { PriceTable } from '../cost/prices.ts';
import { pricesFromConfig, type RunRate } from '../cost/billing.ts';
import { runRate } from './run-rate.ts';
import { simulateCompare, type PresetSummary } from '../cost/simulate.ts';
import { sql } from 'drizzle-orm';
import { PLANS, type Layout, type Plan } from '../domain.ts';
import { isLayout } from '../retention/layouts.ts';

export type { RunRate };

export function priceTable(config: Config): PriceTable {
  return pricesFromConfig(config.STRATA_PRICES_JSON);
}

export async function costThisMonth(db: Db, config: Config, now = new Date()): Promise<RunRate> {
  return runRate(db, billingMonthOf(now), priceTable(config), now);
}

/**
 * The last `months` calendar months (UTC), oldest first. A past month is its bill, with what was
 * stored at its end; the current month is this month's run-rate with what is stored now.
 */
export async function costHistory(db: Db, config: Config, months = 12, now = new Date()): Promise<RunRate[]> {
  const prices = priceTable(config);
  return Promise.all(
    Array.from({ length: months }, (_, i) => {
      const month = billingMonthOf(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - (months - 1 - i), 1)));
      const at = month.end <= now ? new Date(month.end.getTime() - 1) : now;
      return runRate(db, month, prices, at);
    }),
  );
}

/**
 * One storage tier's storage charges against the same GB-months at S3 Standard's rate (converted to
 * S3's binary GB). runRate compares the fleet and each tenant exactly; per tier this is an estimate:
 * request fees are left out on both sides, and Standard-IA's 128 KB minimum object size stays in.
 */
export function tierAgainstStandard(rate: RunRate, tier: StorageTier, prices: PriceTable) {
  const t = rate.tiers[tier];
  const storage = t.gb_months * prices.storage_per_gb_month[tier] + t.early_deletion_dollars;
  const standard = ((t.gb_months * prices.bytes_per_gb[tier]) / prices.bytes_per_gb.s3_standard) * prices.storage_per_gb_month.s3_standard;
  const saved = standard - storage;
  return { storage, standard, savingsDollars: saved, savingsPercent: standard > 0 ? (saved / standard) * 100 : 0 };
}

export interface LayoutComparison {
  plan: Plan;
  layout: Layout;
  tenants: number;
  /** Mean size of the tenants' newest stored backup; 50 GiB when the plan has none yet. */
  sizeGb: number;
  measured: boolean;
  presets: PresetSummary[];
}

/**
 * Both presets side by side per plan (the Storage & cost page): `strata cost simulate --compare`
 * for the plan's tenants at the size of their newest backups, 24 months, steady state = the mean of
 * the last 12.
 */
export async function layoutComparison(db: Db, config: Config): Promise<LayoutComparison[]> {
  const rows = (
    await db.execute<{ tier_id: string; layout: string; daily: number; weekly: number; monthly: number; tenants: number; mean_bytes: string | null }>(sql`
      select p.tier_id, p.layout, p.daily_retention_days as daily, p.weekly_retention_weeks as weekly, p.monthly_retention_months as monthly,
        (select count(*)::int from ${platformTenantsSql} t where t.tier_id = p.tier_id) as tenants,
        (select avg(n.bytes)::text from (
          select distinct on (b.tenant_id) b.backup_size_bytes as bytes from backup_jobs b
          join ${platformTenantsSql} t on t.id = b.tenant_id and t.tier_id = p.tier_id
          where b.status = 'completed' order by b.tenant_id, b.started_at desc, b.id) n) as mean_bytes
      from backup_retention_policies p order by p.id`)
  ).rows;
  const prices = priceTable(config);
  return rows
    .filter((r) => (PLANS as readonly string[]).includes(r.tier_id) && r.daily + r.weekly + r.monthly > 0)
    .map((r) => {
      const measured = r.mean_bytes !== null && Number(r.mean_bytes) > 0;
      const sizeGb = measured ? Number(r.mean_bytes) / 2 ** 30 : 50;
      const layout = isLayout(r.layout) ? r.layout : 'seed';
      // One tenant, scaled: identical tenants cost the same, and a page must not simulate a fleet.
      const n = Math.max(1, r.tenants);
      const report = simulateCompare({
        tenants: 1,
        sizeGb,
        plan: r.tier_id as Plan,
        policy: { dailyRetentionDays: r.daily, weeklyRetentionWeeks: r.weekly, monthlyRetentionMonths: r.monthly },
        layout,
        months: 24,
        timeZone: config.STRATA_TIMEZONE,
        prices,
      });
      const presets = report.summary.presets.map((p) => ({
        ...p,
        steady_state_monthly_dollars: p.steady_state_monthly_dollars * n,
        all_standard_monthly_dollars: p.all_standard_monthly_dollars * n,
        restore_and_drill_dollars_per_month: p.restore_and_drill_dollars_per_month * n,
      }));
      return { plan: r.tier_id as Plan, layout, tenants: r.tenants, sizeGb, measured, presets };
    });
}
