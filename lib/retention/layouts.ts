// Copies per origin (design.md "Retention"): a plan's policy is its retention windows plus a
// layout, and the layout says which stored copies each scheduled backup gets — a list of
// (storage tier, keep for). One dump is written to every copy at backup time, from one stream;
// each copy is its own object with its own expiry. Pure: no I/O.
import { LAYOUTS, STORAGE_TIERS, SCHEDULE_TYPES, type Layout, type Origin, type ScheduleType, type StorageTier } from '../domain.ts';
import { addCalendarMonthsUtc, expiryOf, type ExpiryOptions } from './expiry.ts';
import type { RetentionWindows } from './policies.ts';

const DAY_MS = 86_400_000;

/** How long a copy is kept after its backup completes: exact 24-hour days, or calendar months (UTC). */
export type Keep = { days: number } | { months: number };

/** snake_case: printed as-is by `strata policy show --json`. */
export interface CopySpec {
  storage_tier: StorageTier;
  keep: Keep;
}

export interface RetentionPolicy extends RetentionWindows {
  layout: Layout;
}

export type CopyLayout = Record<ScheduleType, CopySpec[]>;

export function addKeep(from: Date, keep: Keep): Date {
  return 'months' in keep ? addCalendarMonthsUtc(from, keep.months) : new Date(from.getTime() + keep.days * DAY_MS);
}

/** "1 day", "28 days", "12 months". */
export function keepText(keep: Keep): string {
  const [n, unit] = 'months' in keep ? [keep.months, 'month'] : [keep.days, 'day'];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

export function isLayout(value: unknown): value is Layout {
  return typeof value === 'string' && (LAYOUTS as readonly string[]).includes(value);
}

/**
 * The copies each origin gets under a layout; an origin whose window is 0 gets none (the plan has
 * no such schedule).
 * - seed: daily → S3 Standard for the daily window; weekly → Standard-IA for the weekly window;
 *   monthly → B2 for the monthly window (the business case's table; SCHEDULE_STORAGE).
 * - cost-optimized: daily → S3 Standard for 1 day (the newest daily, hot) and B2 for the daily
 *   window; weekly and monthly → B2 only.
 */
export function copiesFor(layout: Layout, w: RetentionWindows): CopyLayout {
  const daily: Keep = { days: w.dailyRetentionDays };
  const weekly: Keep = { days: w.weeklyRetentionWeeks * 7 };
  const monthly: Keep = { months: w.monthlyRetentionMonths };
  const when = (window: number, specs: CopySpec[]) => (window > 0 ? specs : []);
  if (layout === 'cost-optimized') {
    return {
      daily: when(w.dailyRetentionDays, [
        { storage_tier: 's3_standard', keep: { days: Math.min(1, w.dailyRetentionDays) } },
        { storage_tier: 'b2_cold', keep: daily },
      ]),
      weekly: when(w.weeklyRetentionWeeks, [{ storage_tier: 'b2_cold', keep: weekly }]),
      monthly: when(w.monthlyRetentionMonths, [{ storage_tier: 'b2_cold', keep: monthly }]),
    };
  }
  return {
    daily: when(w.dailyRetentionDays, [{ storage_tier: 's3_standard', keep: daily }]),
    weekly: when(w.weeklyRetentionWeeks, [{ storage_tier: 's3_ia', keep: weekly }]),
    monthly: when(w.monthlyRetentionMonths, [{ storage_tier: 'b2_cold', keep: monthly }]),
  };
}

/** One stored object of a backup point: its tier, the origin whose copy it is, and how long it stays. */
export interface PlannedCopy {
  storageTier: StorageTier;
  origin: ScheduleType;
  keep: Keep;
}

/**
 * The objects one dump is stored as when `origins` fire together (Sunday's daily and weekly, the
 * 1st's monthly): every copy of every origin, and where two land in the same storage tier, one
 * object with the longest expiry (measured from `at`), carrying that copy's origin. In
 * STORAGE_TIERS order. The seed layout never merges (each origin has its own tier), so it plans
 * exactly the rows it always did.
 */
export function planCopies(origins: readonly ScheduleType[], policy: RetentionPolicy, at: Date): PlannedCopy[] {
  const layout = copiesFor(policy.layout, policy);
  const best = new Map<StorageTier, PlannedCopy & { until: number }>();
  // Less frequent origins first: on an equal expiry the copy is labelled weekly rather than daily.
  for (const origin of [...SCHEDULE_TYPES].reverse()) {
    if (!origins.includes(origin)) continue;
    for (const spec of layout[origin]) {
      const until = addKeep(at, spec.keep).getTime();
      const cur = best.get(spec.storage_tier);
      if (!cur || until > cur.until) best.set(spec.storage_tier, { storageTier: spec.storage_tier, origin, keep: spec.keep, until });
    }
  }
  return STORAGE_TIERS.filter((t) => best.has(t)).map((t) => {
    const { until: _until, ...copy } = best.get(t)!;
    return copy;
  });
}

/**
 * expires_at of one stored copy: completed_at + the keep of its origin's copy in its storage tier,
 * under the layout recorded on the copy (a layout change applies to new backups only; null = the
 * layout before layouts existed, seed). A manual backup keeps STRATA_MANUAL_RETENTION_DAYS; a copy
 * whose (origin, tier) the layout does not name falls back to the origin's window (expiryOf); no
 * policy → null (never expires), as expiryOf.
 */
export function copyExpiry(
  copy: { origin: Origin; storageTier: StorageTier; layout: Layout | null; completedAt: Date },
  policy: RetentionWindows | null,
  opts: ExpiryOptions,
): Date | null {
  if (copy.origin === 'manual' || !policy) return expiryOf(copy, policy, opts);
  const spec = copiesFor(copy.layout ?? 'seed', policy)[copy.origin].find((c) => c.storage_tier === copy.storageTier);
  if (!spec) return expiryOf(copy, policy, opts);
  if (Number.isNaN(copy.completedAt.getTime())) throw new RangeError('completedAt is not a valid date');
  return addKeep(copy.completedAt, spec.keep);
}

/**
 * The origins a preset backs up incrementally (design.md "Incremental backups"). A preset is a copy
 * layout plus backup types: applying one (`strata policy set --preset`, the policy editor) sets
 * both, and `strata cost simulate --preset` prices both.
 * - seed: none, every backup a full dump (the business case's table).
 * - cost-optimized: dailies. Each daily copy uploads only what changed since the one before, so
 *   seven B2 dailies and the hot S3 copy cost little more than one dump; weeklies and monthlies stay
 *   full (a point that is also theirs is full), so every copy kept longer than a week stands alone.
 */
export function presetIncrementalOrigins(layout: Layout): ScheduleType[] {
  return layout === 'cost-optimized' ? ['daily'] : [];
}

/** The storage tiers an origin's backups land in under a layout, in copy order. */
export function storesFor(layout: Layout, w: RetentionWindows): StorageTier[] {
  const all = Object.values(copiesFor(layout, w)).flat().map((c) => c.storage_tier);
  return STORAGE_TIERS.filter((t) => all.includes(t));
}
