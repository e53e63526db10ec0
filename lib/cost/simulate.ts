// `strata cost simulate`: a fleet of identical tenants run day by day through the REAL schedule
// slots (lib/schedule), expiry and prune decisions (lib/retention), then billed month by month
// (model.ts) hybrid vs all-S3-Standard. Pure and deterministic: no clock, no randomness.
import { SCHEDULE_STORAGE, STORAGE_TIERS, type Plan, type StorageTier } from '../domain.ts';
import { pruneDecisions, type PruneCandidate } from '../retention/decisions.ts';
import { expiryOf } from '../retention/expiry.ts';
import { SEEDED_POLICIES, type RetentionWindows } from '../retention/policies.ts';
import { slotsBetween } from '../schedule/next-run.ts';
import { tenantOffsetMinutes } from '../schedule/offset.ts';
import { schedulesForPolicy } from '../schedule/policy.ts';
import { allStandardCost, monthCost, savings, type StoredObject } from './model.ts';
import { DEFAULT_PRICES, GIB, type PriceTable } from './prices.ts';

const DAY_MS = 86_400_000;

export interface SimulationInput {
  tenants: number;
  /** Database size per tenant at the start, in GB as pg_size_pretty shows them (2^30 bytes). */
  sizeGb: number;
  /** Compound growth of every tenant's size, applied at each UTC month boundary. Default 0. */
  growthPctPerMonth?: number;
  plan: Plan;
  months: number;
  /** Defaults to the seeded policy of `plan`. */
  policy?: RetentionWindows;
  timeZone?: string;
  prices?: PriceTable;
  /** Stored object size = size × this (compression, encryption overhead). Default 1. */
  compressionFactor?: number;
  /** STRATA_SCHEDULE_WINDOW_MINUTES. Default 120. */
  windowMinutes?: number;
  /** First day simulated; must be the 1st of a month, 00:00 UTC. Default 2026-01-01. */
  start?: Date;
}

/** snake_case: printed as-is by `strata cost simulate --json`. */
export interface SimulatedMonth {
  month: string; // YYYY-MM
  /** Stored at the month's end, right after that day's prune, in the unit of size_gb (2^30 bytes). */
  stored_gb: Record<StorageTier, number>;
  backups_stored: Record<StorageTier, number>;
  /** Billed GB-months, each tier in its provider's GB. */
  billed_gb_months: Record<StorageTier, number>;
  hybrid_dollars: number;
  all_standard_dollars: number;
  savings_dollars: number;
  savings_percent: number;
}

export interface SimulationReport {
  plan: Plan;
  policy: RetentionWindows;
  tenants: number;
  prices_as_of: string;
  months: SimulatedMonth[];
  /** The last month; `reached` once the longest retention has run a full cycle (sizes then repeat). */
  steady_state: SimulatedMonth & { reached: boolean };
  assumptions: string[];
}

const ASSUMPTIONS = [
  'each scheduled slot produces one backup per storage tier at the slot instant, completing at once',
  'prune runs once a day at 00:00 UTC, so an expired backup is billed until the next midnight',
  'no manual backups, failures, restores or verification reads (no retrieval or egress fees)',
  'one PUT per backup object (multipart uploads cost a few more requests; negligible)',
  'a dump group stored to several tiers is one dump; joining schedules shifts start times by under the window and is not modelled',
];

const perTier = (f: (t: StorageTier) => number) => Object.fromEntries(STORAGE_TIERS.map((t) => [t, f(t)])) as Record<StorageTier, number>;
const addMonthsUtc = (d: Date, n: number) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1));

interface SimBackup extends PruneCandidate, StoredObject {}

function validate(input: SimulationInput, start: Date): void {
  const positiveInt = (n: number, what: string) => {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`${what} must be a positive integer, got ${n}`);
  };
  positiveInt(input.tenants, 'tenants');
  positiveInt(input.months, 'months');
  if (!(input.sizeGb > 0)) throw new RangeError(`size must be > 0 GB, got ${input.sizeGb}`);
  if (!((input.growthPctPerMonth ?? 0) > -100)) throw new RangeError('growth must be > −100 % a month');
  if (start.getTime() !== addMonthsUtc(start, 0).getTime()) throw new RangeError('start must be the 1st of a month, 00:00 UTC');
}

/** Retention length in whole months, rounded up: after this many months sizes repeat. */
function cycleMonths(p: RetentionWindows): number {
  return Math.max(Math.ceil(p.dailyRetentionDays / 28), Math.ceil((p.weeklyRetentionWeeks * 7) / 28), p.monthlyRetentionMonths);
}

export function simulateFleet(input: SimulationInput): SimulationReport {
  const start = input.start ?? new Date('2026-01-01T00:00:00Z');
  validate(input, start);
  const policy = input.policy ?? SEEDED_POLICIES[input.plan];
  const tz = input.timeZone ?? 'UTC';
  const prices = input.prices ?? DEFAULT_PRICES;
  const growth = 1 + (input.growthPctPerMonth ?? 0) / 100;
  const factor = input.compressionFactor ?? 1;
  const end = addMonthsUtc(start, input.months);
  const schedules = schedulesForPolicy(policy);
  const tenants = Array.from({ length: input.tenants }, (_, i) => {
    const id = `sim-tenant-${String(i + 1).padStart(4, '0')}`;
    return { id, offset: tenantOffsetMinutes(id, input.windowMinutes ?? 120) };
  });
  const bytesAt = (t: Date) => {
    const monthIndex = (t.getUTCFullYear() - start.getUTCFullYear()) * 12 + t.getUTCMonth() - start.getUTCMonth();
    return Math.round(input.sizeGb * growth ** monthIndex * GIB * factor);
  };

  // Every run in [start, end) from the real slot code (slotsBetween is (from, to]; shifting both
  // ends by 1 ms makes it [start, end)), in time order.
  const runs: SimBackup[] = [];
  for (const t of tenants) {
    for (const s of schedules) {
      for (const slot of slotsBetween(s.scheduleType, t.offset, new Date(start.getTime() - 1), new Date(end.getTime() - 1), tz)) {
        runs.push({
          id: `${t.id}/${s.scheduleType}/${slot.toISOString()}`,
          tenantId: t.id,
          status: 'completed',
          startedAt: slot,
          expiresAt: expiryOf({ origin: s.scheduleType, completedAt: slot }, policy, { manualRetentionDays: 30 }),
          legalHold: false,
          tenantRemoved: false,
          tier: SCHEDULE_STORAGE[s.scheduleType],
          bytes: bytesAt(slot),
          storedFrom: slot,
          deletedAt: null,
        });
      }
    }
  }
  runs.sort((a, b) => a.storedFrom.getTime() - b.storedFrom.getTime());

  // Day by day (UTC days): the day's runs complete, then prune decides at the next midnight.
  let live: SimBackup[] = [];
  let next = 0;
  for (let day = start.getTime(); day < end.getTime(); day += DAY_MS) {
    const dayEnd = new Date(day + DAY_MS);
    while (next < runs.length && runs[next]!.storedFrom < dayEnd) live.push(runs[next++]!);
    const doomed = new Set(pruneDecisions(live, dayEnd).filter((d) => d.action === 'delete').map((d) => d.backup_id));
    for (const b of live) if (doomed.has(b.id)) Object.assign(b, { status: 'deleted', deletedAt: dayEnd });
    live = live.filter((b) => !doomed.has(b.id));
  }
  const all = runs;

  const months: SimulatedMonth[] = [];
  for (let m = 0; m < input.months; m++) {
    const month = { start: addMonthsUtc(start, m), end: addMonthsUtc(start, m + 1) };
    const storedAtEnd = all.filter(
      (b) => b.storedFrom < month.end && (b.deletedAt === null || b.deletedAt.getTime() > month.end.getTime()),
    );
    const hybrid = monthCost(all, month, prices);
    const standard = allStandardCost(all, month, prices);
    const s = savings(hybrid, standard);
    months.push({
      month: month.start.toISOString().slice(0, 7),
      stored_gb: perTier((t) => storedAtEnd.filter((b) => b.tier === t).reduce((n, b) => n + b.bytes, 0) / GIB),
      backups_stored: perTier((t) => storedAtEnd.filter((b) => b.tier === t).length),
      billed_gb_months: perTier((t) => hybrid.tiers[t].gb_months),
      hybrid_dollars: hybrid.total_dollars,
      all_standard_dollars: standard.total_dollars,
      savings_dollars: s.dollars,
      savings_percent: s.percent,
    });
  }
  return {
    plan: input.plan,
    policy,
    tenants: input.tenants,
    prices_as_of: prices.as_of,
    months,
    steady_state: { ...months[months.length - 1]!, reached: input.months > cycleMonths(policy) },
    assumptions: ASSUMPTIONS,
  };
}
