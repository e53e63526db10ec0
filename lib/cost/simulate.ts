// `strata cost simulate`: a fleet of identical tenants run day by day through the REAL schedule
// slots (lib/schedule), copy planning, expiry and prune decisions (lib/retention), then billed
// month by month (model.ts) against the same backup points kept for the same time in S3 Standard.
// Pure and deterministic: no clock, no randomness.
import { COPY_READ_ORDER, LAYOUTS, STORAGE_TIERS, type Layout, type Plan, type ScheduleType, type StorageTier } from '../domain.ts';
import { PRUNE_EVERY_SECONDS, pruneDecisions, type PruneCandidate } from '../retention/decisions.ts';
import { addKeep, copiesFor, planCopies, presetIncrementalOrigins, type CopyLayout } from '../retention/layouts.ts';
import { scheduledBackupType, SEEDED_POLICIES, type RetentionWindows } from '../retention/policies.ts';
import { CHUNK_BASE_KEEP_SECONDS } from '../retention/chunks.ts';
import { slotsBetween } from '../schedule/next-run.ts';
import { tenantOffsetMinutes } from '../schedule/offset.ts';
import { schedulesForPolicy } from '../schedule/policy.ts';
import { allStandardCost, monthCost, savings, type BucketListing, type ObjectRead, type StoredObject } from './model.ts';
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
  /** The copy layout (preset). Default seed. */
  layout?: Layout;
  /** Restores across the fleet per month, each downloading the newest backup point's best copy. Default 0. */
  restoresPerMonth?: number;
  /** The weekly restore drill: this many tenants' newest backup point downloaded every week. Default 0. */
  drillSample?: number;
  /** Multipart part size of uploads (S3_PART_SIZE_MB): a dump is parts + 2 PUTs, plus manifest and signature. Default 16. */
  partSizeMb?: number;
  /** Origins whose backups are incremental (the policy's incremental_origins). Default: the preset's own (presetIncrementalOrigins). */
  incrementalOrigins?: ScheduleType[];
  /** Share of a tenant's data that changes per day, in percent: what an incremental backup adds. Default 1. */
  dailyChangePercent?: number;
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

/** snake_case: one preset's figures in `summary.presets`. */
export interface PresetSummary {
  preset: Layout;
  /** The origins it priced as incremental: the preset's own unless the input named them. */
  incremental_origins: ScheduleType[];
  /** Mean savings_percent of the last 12 simulated months (all of them when fewer). */
  steady_state_savings_percent: number;
  /** Mean monthly bill over the same months. */
  steady_state_monthly_dollars: number;
  all_standard_monthly_dollars: number;
  restore_and_drill_dollars_per_month: number;
}

export interface SimulationSummary extends PresetSummary {
  months_averaged: number;
  /** Every preset simulated (`--compare`), the report's own first. */
  presets: PresetSummary[];
}

export interface SimulationReport {
  plan: Plan;
  policy: RetentionWindows;
  layout: Layout;
  /** Origins backed up incrementally, and the daily change they were priced with. */
  incremental_origins: ScheduleType[];
  daily_change_percent: number;
  /** The copies each origin gets under the layout. */
  copies: CopyLayout;
  tenants: number;
  prices_as_of: string;
  months: SimulatedMonth[];
  /** The last month; `reached` once the longest retention has run a full cycle (sizes then repeat). */
  steady_state: SimulatedMonth & { reached: boolean };
  summary: SimulationSummary;
  assumptions: string[];
}

const ASSUMPTIONS = [
  'schedules due within the window share one dump at the first one\'s slot (as the tick does); the layout plans its copies, one object per storage tier, completing at the slot instant',
  'prune runs every hour on the hour (PRUNE_EVERY_SECONDS), so an expired copy is billed until the next run; each run lists every bucket (one LIST or B2 class C call per 1,000 objects, 3 objects per copy) and each deleted copy costs one more',
  'uploads: ceil(size / part size) + 2 PUTs for the dump, 2 for manifest and signature; no manual backups or failures',
  'restores and drills download the newest backup point\'s best copy (S3 Standard, B2, Standard-IA) to outside the provider: 3 GETs, egress, IA retrieval; B2 egress free up to 3x the month\'s average stored',
  'the all-S3-Standard baseline keeps the same backup points as full dumps (one object per origin, seed layout) for the same time, read the same way',
];

const INCREMENTAL_ASSUMPTION = (pct: number) =>
  `incremental copies: the first in a storage tier uploads the whole dump; each next one (within ${CHUNK_BASE_KEEP_SECONDS / 86_400} days) adds ${pct}% of it per day since the one before (at most all of it), in ~1 MiB chunks (one PUT each); the chunks a copy no longer shares with the next are deleted with it, once it is no longer the newest (design.md "Incremental backups")`;

const perTier = (f: (t: StorageTier) => number) => Object.fromEntries(STORAGE_TIERS.map((t) => [t, f(t)])) as Record<StorageTier, number>;
const addMonthsUtc = (d: Date, n: number) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1));

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

interface SimCopy extends PruneCandidate, StoredObject {
  dumpGroup: string;
  storageTier: StorageTier;
  incremental: boolean;
}

/** What a bucket holds and bills: a full copy's objects, or an incremental copy's share of its chunks. */
interface Billed extends StoredObject {
  /** Objects it stands for in a listing. */
  objects: number;
}

/** A dump's PUT requests: the multipart upload (parts + create + complete) and the manifest and signature. */
export function uploadRequests(bytes: number, partSizeMb: number): number {
  return Math.max(1, Math.ceil(bytes / (partSizeMb * 2 ** 20))) + 2 + 2;
}

interface Fleet {
  tenants: { id: string; offset: number }[];
  start: Date;
  end: Date;
  bytesAt: (t: Date) => number;
}

/** The objects one stored copy leaves in its bucket: the dump, its manifest and the signature. */
const OBJECTS_PER_COPY = 3;

/**
 * Each prune run lists every bucket once, paged by 1,000 keys (LIST / B2 class C calls): `buckets`
 * groups the storage tiers sharing one (S3 Standard and Standard-IA share S3_BACKUP_BUCKET). A copy
 * is listed by the runs after it completes, up to and including the one that deletes it.
 */
function pruneListings(billed: Billed[], fleet: Fleet, buckets: StorageTier[][]): BucketListing[] {
  const step = PRUNE_EVERY_SECONDS * 1000;
  const listings: BucketListing[] = [];
  for (const tiers of buckets) {
    const inBucket = billed.filter((c) => tiers.includes(c.tier));
    const added = inBucket.map((c) => [c.storedFrom.getTime(), c.objects] as const).sort((a, b) => a[0] - b[0]);
    const gone = inBucket.filter((c) => c.deletedAt).map((c) => [c.deletedAt!.getTime(), c.objects] as const).sort((a, b) => a[0] - b[0]);
    let a = 0;
    let g = 0;
    let objects = 0;
    for (let t = fleet.start.getTime() + step; t <= fleet.end.getTime(); t += step) {
      while (a < added.length && added[a]![0] < t) objects += added[a++]![1];
      while (g < gone.length && gone[g]![0] < t) objects -= gone[g++]![1];
      listings.push({ tier: tiers[0]!, at: new Date(t), requests: Math.max(1, Math.ceil(objects / 1000)) });
    }
  }
  return listings;
}

const MIB = 2 ** 20;

/**
 * The objects a layout's copies leave in the buckets. A full copy is itself (dump, manifest,
 * signature). Incremental copies of one tenant in one storage tier form a chain (consecutive copies
 * at most CHUNK_BASE_KEEP_SECONDS apart, as collection keeps the newest copy's chunks that long):
 * copy k uploads what changed since copy k−1 (all of it when it starts a chain); of its chunks, the
 * share the next copy no longer holds stays until copy k is deleted and no longer the newest, and
 * the rest is handed on to the next copy (`continues`).
 */
function billedObjects(copies: SimCopy[], input: SimulationInput, compression: number): Billed[] {
  const billed: Billed[] = copies.filter((c) => !c.incremental).map((c) => ({ ...c, objects: OBJECTS_PER_COPY }));
  const change = (input.dailyChangePercent ?? 1) / 100;
  const chunkBytes = MIB * compression;
  const chains = new Map<string, SimCopy[]>();
  for (const c of copies) if (c.incremental) chains.set(`${c.tenantId}/${c.tier}`, [...(chains.get(`${c.tenantId}/${c.tier}`) ?? []), c]);
  const baseKeepMs = CHUNK_BASE_KEEP_SECONDS * 1000;
  for (const chain of chains.values()) {
    chain.sort((a, b) => a.storedFrom.getTime() - b.storedFrom.getTime());
    chain.forEach((c, k) => {
      const t = c.storedFrom.getTime();
      const prev = chain[k - 1];
      const next = chain[k + 1];
      const follows = prev && t - prev.storedFrom.getTime() <= baseKeepMs;
      const followed = next && next.storedFrom.getTime() - t <= baseKeepMs;
      const share = (from: number, to: number) => Math.min(1, (change * (to - from)) / DAY_MS);
      const added = follows ? c.bytes * share(prev.storedFrom.getTime(), t) : c.bytes;
      // What the next copy no longer holds: kept until this copy is deleted and no longer the newest.
      const own = followed ? c.bytes * share(t, next.storedFrom.getTime()) : c.bytes;
      const ownEnd = (() => {
        const ends = [c.deletedAt?.getTime() ?? Infinity, followed ? next.storedFrom.getTime() : t + baseKeepMs];
        const end = Math.max(...ends);
        return end === Infinity ? null : new Date(end);
      })();
      billed.push({ tier: c.tier, bytes: own, storedFrom: c.storedFrom, deletedAt: ownEnd, requests: Math.ceil(added / chunkBytes) + 2, objects: Math.ceil(own / chunkBytes) + 2 });
      if (followed && own < c.bytes) {
        billed.push({ tier: c.tier, bytes: c.bytes - own, storedFrom: c.storedFrom, deletedAt: next.storedFrom, requests: 0, continues: true, objects: Math.ceil((c.bytes - own) / chunkBytes) });
      }
    });
  }
  return billed;
}

/** Every stored copy in [start, end) for one layout, with the prune run that deleted it (deletedAt). */
function runCopies(input: SimulationInput, fleet: Fleet, policy: RetentionWindows, layout: Layout, incrementalOrigins: readonly ScheduleType[]): SimCopy[] {
  const tz = input.timeZone ?? 'UTC';
  const windowMs = (input.windowMinutes ?? 120) * 60_000;
  const schedules = schedulesForPolicy({ ...policy, layout });
  const copies: SimCopy[] = [];
  for (const t of fleet.tenants) {
    // The real slot code (slotsBetween is (from, to]; shifting both ends by 1 ms makes it [start, end)).
    const slots = schedules
      .flatMap((s) =>
        slotsBetween(s.scheduleType, t.offset, new Date(fleet.start.getTime() - 1), new Date(fleet.end.getTime() - 1), tz).map((at) => ({ type: s.scheduleType, at })),
      )
      .sort((a, b) => a.at.getTime() - b.at.getTime());
    const taken = new Set<number>();
    for (let i = 0; i < slots.length; i++) {
      if (taken.has(i)) continue;
      const at = slots[i]!.at;
      const origins: ScheduleType[] = [slots[i]!.type];
      // Others due within the window join this dump (tick.ts), one slot per schedule.
      for (let j = i + 1; j < slots.length && slots[j]!.at.getTime() <= at.getTime() + windowMs; j++) {
        if (!taken.has(j) && !origins.includes(slots[j]!.type)) {
          origins.push(slots[j]!.type);
          taken.add(j);
        }
      }
      const bytes = fleet.bytesAt(at);
      const point = `${t.id}/${at.toISOString()}`;
      const incremental = scheduledBackupType(origins, incrementalOrigins) === 'incremental';
      for (const c of planCopies(origins, { ...policy, layout }, at)) {
        copies.push({
          id: `${point}/${c.storageTier}`,
          dumpGroup: point,
          tenantId: t.id,
          status: 'completed',
          startedAt: at,
          expiresAt: addKeep(at, c.keep),
          legalHold: false,
          tenantRemoved: false,
          storageTier: c.storageTier,
          tier: c.storageTier,
          incremental,
          bytes,
          storedFrom: at,
          deletedAt: null,
          requests: uploadRequests(bytes, input.partSizeMb ?? 16),
        });
      }
    }
  }
  copies.sort((a, b) => a.storedFrom.getTime() - b.storedFrom.getTime());

  // Prune every PRUNE_EVERY_SECONDS, as the worker does: the copies completed by then join, expired
  // ones go (a run with nothing expired decides nothing, so it is skipped), and each run lists every
  // bucket once: S3 Standard and Standard-IA share S3_BACKUP_BUCKET, B2 has its own.
  let live: SimCopy[] = [];
  let next = 0;
  const step = PRUNE_EVERY_SECONDS * 1000;
  for (let t = fleet.start.getTime() + step; t <= fleet.end.getTime(); t += step) {
    const at = new Date(t);
    while (next < copies.length && copies[next]!.storedFrom < at) live.push(copies[next++]!);
    if (!live.some((b) => b.expiresAt !== null && b.expiresAt <= at)) continue;
    const doomed = new Set(pruneDecisions(live, at).filter((d) => d.action === 'delete').map((d) => d.backup_id));
    if (doomed.size === 0) continue;
    for (const b of live) if (doomed.has(b.id)) Object.assign(b, { status: 'deleted', deletedAt: at });
    live = live.filter((b) => !doomed.has(b.id));
  }
  return copies;
}

/**
 * Downloads: restores spread evenly over each month, round-robin over the tenants, and the weekly
 * drill's sample (every 7 days from the start, 12:00 UTC); each reads the newest backup point's
 * best copy alive at that instant.
 */
function runReads(input: SimulationInput, fleet: Fleet, copies: SimCopy[], compression: number): ObjectRead[] {
  const byTenant = new Map<string, SimCopy[]>();
  for (const c of copies) byTenant.set(c.tenantId, [...(byTenant.get(c.tenantId) ?? []), c]);
  const readAt = (tenantId: string, at: Date): ObjectRead | null => {
    const alive = (byTenant.get(tenantId) ?? []).filter((c) => c.storedFrom <= at && (c.deletedAt === null || c.deletedAt > at));
    if (alive.length === 0) return null;
    const newest = Math.max(...alive.map((c) => c.storedFrom.getTime()));
    const point = alive.filter((c) => c.storedFrom.getTime() === newest);
    point.sort((a, b) => COPY_READ_ORDER.indexOf(a.tier) - COPY_READ_ORDER.indexOf(b.tier));
    const c = point[0]!;
    // An incremental copy is read chunk by chunk (plus its manifest and signature).
    return { tier: c.tier, bytes: c.bytes, at, egress: true, requests: c.incremental ? Math.ceil(c.bytes / (MIB * compression)) + 2 : 3 };
  };
  const reads: ObjectRead[] = [];
  let k = 0;
  const perMonth = input.restoresPerMonth ?? 0;
  for (let m = 0; perMonth > 0 && m < input.months; m++) {
    const from = addMonthsUtc(fleet.start, m).getTime();
    const span = addMonthsUtc(fleet.start, m + 1).getTime() - from;
    for (let i = 0; i < perMonth; i++) {
      const read = readAt(fleet.tenants[k++ % fleet.tenants.length]!.id, new Date(from + ((i + 0.5) * span) / perMonth));
      if (read) reads.push(read);
    }
  }
  const sample = Math.min(input.drillSample ?? 0, fleet.tenants.length);
  let d = 0;
  for (let at = fleet.start.getTime() + 7 * DAY_MS + DAY_MS / 2; sample > 0 && at < fleet.end.getTime(); at += 7 * DAY_MS) {
    for (let i = 0; i < sample; i++) {
      const read = readAt(fleet.tenants[d++ % fleet.tenants.length]!.id, new Date(at));
      if (read) reads.push(read);
    }
  }
  return reads;
}

export function simulateFleet(input: SimulationInput): SimulationReport {
  const start = input.start ?? new Date('2026-01-01T00:00:00Z');
  validate(input, start);
  const policy = input.policy ?? SEEDED_POLICIES[input.plan];
  const layout = input.layout ?? 'seed';
  const prices = input.prices ?? DEFAULT_PRICES;
  const growth = 1 + (input.growthPctPerMonth ?? 0) / 100;
  const factor = input.compressionFactor ?? 1;
  const fleet: Fleet = {
    start,
    end: addMonthsUtc(start, input.months),
    tenants: Array.from({ length: input.tenants }, (_, i) => {
      const id = `sim-tenant-${String(i + 1).padStart(4, '0')}`;
      return { id, offset: tenantOffsetMinutes(id, input.windowMinutes ?? 120) };
    }),
    bytesAt: (t: Date) => {
      const monthIndex = (t.getUTCFullYear() - start.getUTCFullYear()) * 12 + t.getUTCMonth() - start.getUTCMonth();
      return Math.round(input.sizeGb * growth ** monthIndex * GIB * factor);
    },
  };

  // Only origins the plan has a schedule for (advanced has no dailies to back up incrementally).
  const scheduled = new Set(schedulesForPolicy({ ...policy, layout }).map((s) => s.scheduleType));
  const incrementalOrigins = [...new Set(input.incrementalOrigins ?? presetIncrementalOrigins(layout))].filter((o) => scheduled.has(o));
  const all = runCopies(input, fleet, policy, layout, incrementalOrigins);
  const billed = billedObjects(all, input, factor);
  const reads = runReads(input, fleet, all, factor);
  const listings = pruneListings(billed, fleet, [['s3_standard', 's3_ia'], ['b2_cold']]);
  // Equal retention on S3 Standard: the same backup points as full dumps, one object per origin
  // (seed), read alike, all in one bucket.
  const fullSeed = layout === 'seed' && incrementalOrigins.length === 0;
  const baseline = fullSeed ? all : runCopies(input, fleet, policy, 'seed', []);
  const baselineBilled = fullSeed ? billed : billedObjects(baseline, input, factor);
  const baselineListings = pruneListings(baselineBilled, fleet, [['s3_standard', 's3_ia', 'b2_cold']]);
  const baselineReads = fullSeed ? reads : runReads(input, fleet, baseline, factor);

  const months: SimulatedMonth[] = [];
  let readDollars = 0;
  for (let m = 0; m < input.months; m++) {
    const month = { start: addMonthsUtc(start, m), end: addMonthsUtc(start, m + 1) };
    const aliveAtEnd = <T extends StoredObject>(b: T) => b.storedFrom < month.end && (b.deletedAt === null || b.deletedAt.getTime() > month.end.getTime());
    const storedAtEnd = billed.filter(aliveAtEnd);
    const copiesAtEnd = all.filter(aliveAtEnd);
    const hybrid = monthCost(billed, month, prices, reads, listings);
    const standard = allStandardCost(baselineBilled, month, prices, baselineReads, baselineListings);
    if (m >= input.months - 12) {
      readDollars += STORAGE_TIERS.reduce((n, t) => n + hybrid.tiers[t].retrieval_dollars + hybrid.tiers[t].egress_dollars + hybrid.tiers[t].get_requests * (prices.get_per_1000[t] / 1000), 0);
    }
    const s = savings(hybrid, standard);
    months.push({
      month: month.start.toISOString().slice(0, 7),
      stored_gb: perTier((t) => storedAtEnd.filter((b) => b.tier === t).reduce((n, b) => n + b.bytes, 0) / GIB),
      backups_stored: perTier((t) => copiesAtEnd.filter((b) => b.tier === t).length),
      billed_gb_months: perTier((t) => hybrid.tiers[t].gb_months),
      hybrid_dollars: hybrid.total_dollars,
      all_standard_dollars: standard.total_dollars,
      savings_dollars: s.dollars,
      savings_percent: s.percent,
    });
  }
  const last = months.slice(-12);
  const mean = (f: (m: SimulatedMonth) => number) => last.reduce((n, m) => n + f(m), 0) / last.length;
  const own: PresetSummary = {
    preset: layout,
    incremental_origins: incrementalOrigins,
    steady_state_savings_percent: mean((m) => m.savings_percent),
    steady_state_monthly_dollars: mean((m) => m.hybrid_dollars),
    all_standard_monthly_dollars: mean((m) => m.all_standard_dollars),
    restore_and_drill_dollars_per_month: readDollars / last.length,
  };
  return {
    plan: input.plan,
    policy,
    layout,
    incremental_origins: incrementalOrigins,
    daily_change_percent: input.dailyChangePercent ?? 1,
    copies: copiesFor(layout, policy),
    tenants: input.tenants,
    prices_as_of: prices.as_of,
    months,
    steady_state: { ...months[months.length - 1]!, reached: input.months > cycleMonths(policy) },
    summary: { ...own, months_averaged: last.length, presets: [own] },
    assumptions: incrementalOrigins.length > 0 ? [...ASSUMPTIONS, INCREMENTAL_ASSUMPTION(input.dailyChangePercent ?? 1)] : ASSUMPTIONS,
  };
}

/**
 * The report for `input.layout`, with every other preset's figures beside it in summary.presets
 * (`--compare`): each preset with its own backup types, unless the input names the incremental origins.
 */
export function simulateCompare(input: SimulationInput): SimulationReport {
  const report = simulateFleet(input);
  const others = LAYOUTS.filter((l) => l !== report.layout).map((layout) => simulateFleet({ ...input, layout }).summary.presets[0]!);
  return { ...report, summary: { ...report.summary, presets: [...report.summary.presets, ...others] } };
}
