// The pure half of the run-rate bill: its shapes, prices from configuration, billing months, and the
// all-S3-Standard baseline at equal retention. lib/views/run-rate.ts reads the stored objects.
import type { StorageTier } from '../domain.ts';
import { billingMonthOf, savings, type BillingMonth, type StoredObject } from './model.ts';
import { withPrices, type PriceOverrides, type PriceTable } from './prices.ts';

export interface CostLine {
  hybrid_dollars: number;
  all_standard_dollars: number;
  savings_dollars: number;
  savings_percent: number;
}

export interface RunRate extends CostLine {
  month: string;
  prices: { as_of: string; source: string };
  tiers: Record<StorageTier, { stored_bytes: number; objects: number; gb_months: number; early_deletion_dollars: number; dollars: number }>;
  tenants: ({ tenant_id: string; stored_bytes: number } & CostLine)[];
}

/** Prices from STRATA_PRICES_JSON (a partial price table) over the defaults. */
export function pricesFromConfig(json: string | undefined): PriceTable {
  if (!json) return withPrices();
  return withPrices(JSON.parse(json) as PriceOverrides);
}

export function parseMonth(text: string): BillingMonth {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(text);
  if (!m) throw new RangeError(`month must be YYYY-MM, got ${JSON.stringify(text)}`);
  return billingMonthOf(new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1)));
}

/** One cost line: the hybrid bill against all-Standard, and what the hybrid saves. */
export const costLine = (hybrid: number, standard: number): CostLine => {
  const s = savings({ total_dollars: hybrid } as never, { total_dollars: standard } as never);
  return { hybrid_dollars: hybrid, all_standard_dollars: standard, savings_dollars: s.dollars, savings_percent: s.percent };
};

/**
 * The all-S3-Standard baseline at equal retention: one object per backup point and origin, kept as
 * long as that origin's longest-lived copy. Several copies of one dump (a hot S3 copy beside a B2
 * one) are one backup kept once, not two; with one copy per origin (seed) this is every object.
 */
export function equalRetentionBaseline<T extends StoredObject & { dumpGroup: string; origin: string }>(objects: T[]): T[] {
  const longest = new Map<string, T>();
  const life = (o: T) => o.deletedAt?.getTime() ?? Infinity;
  for (const o of objects) {
    const key = `${o.dumpGroup}\u0000${o.origin}`;
    const cur = longest.get(key);
    if (!cur || life(o) > life(cur)) longest.set(key, o);
  }
  return [...longest.values()];
}
