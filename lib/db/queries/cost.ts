// The dashboard's cost figures: lib/cost's run-rate (the same numbers `strata cost` prints) with the
// configured price table, for this month and month by month for the chart.
import type { Db } from '../client.ts';
import type { Config } from '../../env.ts';
import type { StorageTier } from '../../domain.ts';
import { billingMonthOf } from '../../cost/model.ts';
import type { PriceTable } from '../../cost/prices.ts';
import { pricesFromConfig, runRate, type RunRate } from '../../cost/run-rate.ts';

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
