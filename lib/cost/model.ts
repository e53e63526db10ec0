// What a month of stored backups costs, per storage tier, the way the providers bill it:
// GB-months from byte-hours, S3 Standard-IA's 128 KB minimum object size and 30-day minimum
// storage duration, requests (PUT, LIST, GET; B2 class A/B/C), IA retrieval, and egress (B2 free up
// to 3× the average stored). Pure: objects in, dollars out.
import { STORAGE_TIERS, type StorageTier } from '../domain.ts';
import type { PriceTable } from './prices.ts';

const DAY_MS = 86_400_000;

export interface StoredObject {
  tier: StorageTier;
  bytes: number;
  storedFrom: Date;
  deletedAt: Date | null;
  /** Upload requests it took; 1 for a single PUT (a multipart upload is parts + 2). */
  requests?: number;
  /**
   * Its bytes live on in another object from deletedAt (chunks an incremental copy hands on to the
   * next one): billing stops there, but nothing is deleted — no early-deletion charge, no delete.
   */
  continues?: boolean;
}

export interface ObjectRead {
  tier: StorageTier;
  bytes: number;
  at: Date;
  /** Leaves the provider's network (a restore elsewhere); false for in-region reads. Default true. */
  egress?: boolean;
  /** GET requests (S3) / class B transactions (B2) it took. Default 3: the dump, its manifest and signature. */
  requests?: number;
}

/** LIST calls (S3) / class C transactions (B2) not tied to one object: prune listing a bucket. */
export interface BucketListing {
  tier: StorageTier;
  at: Date;
  requests: number;
}

/** A billing period [start, end): providers bill calendar months in UTC. */
export interface BillingMonth {
  start: Date;
  end: Date;
}

/** snake_case: printed as-is by `strata cost --json`. GB are each tier's billed GB (bytes_per_gb). */
export interface TierCost {
  gb_months: number;
  storage_dollars: number;
  /** Minimum-duration charge for objects deleted early, billed in the month of deletion. */
  early_deletion_gb_months: number;
  early_deletion_dollars: number;
  put_requests: number;
  /** Prune lists every bucket each run (per 1,000 objects) and each prefix it deletes (one per deleted object). */
  list_requests: number;
  get_requests: number;
  /** PUT + LIST + GET (B2: class A free, B and C priced). */
  request_dollars: number;
  retrieval_dollars: number;
  egress_dollars: number;
  total_dollars: number;
}

export interface MonthCost {
  month_start: Date;
  month_end: Date;
  tiers: Record<StorageTier, TierCost>;
  total_dollars: number;
}

const emptyTier = (): TierCost => ({
  gb_months: 0,
  storage_dollars: 0,
  early_deletion_gb_months: 0,
  early_deletion_dollars: 0,
  put_requests: 0,
  list_requests: 0,
  get_requests: 0,
  request_dollars: 0,
  retrieval_dollars: 0,
  egress_dollars: 0,
  total_dollars: 0,
});

const within = (t: number, m: BillingMonth) => t >= m.start.getTime() && t < m.end.getTime();

/**
 * The month's bill for these objects. A month's GB-months are byte-hours over the hours in that
 * month (so 100 GB kept all month = 100 GB-months whatever the month's length), which is how AWS
 * turns TimedStorage byte-hours into GB-months. An S3 Standard-IA object deleted before 30 days
 * is charged, in the month of its deletion, for the days it had left, at that month's rate.
 */
export function monthCost(objects: StoredObject[], month: BillingMonth, prices: PriceTable, reads: ObjectRead[] = [], listings: BucketListing[] = []): MonthCost {
  const monthMs = month.end.getTime() - month.start.getTime();
  if (!(monthMs > 0)) throw new RangeError('billing month must end after it starts');
  const tiers = Object.fromEntries(STORAGE_TIERS.map((t) => [t, emptyTier()])) as Record<StorageTier, TierCost>;

  for (const o of objects) {
    const c = tiers[o.tier];
    const billedGb = Math.max(o.bytes, prices.min_billable_object_bytes[o.tier]) / prices.bytes_per_gb[o.tier];
    const from = o.storedFrom.getTime();
    const to = o.deletedAt?.getTime() ?? Infinity;
    const overlap = Math.min(to, month.end.getTime()) - Math.max(from, month.start.getTime());
    if (overlap > 0) c.gb_months += (billedGb * overlap) / monthMs;

    const minMs = prices.min_storage_days[o.tier] * DAY_MS;
    if (o.deletedAt && !o.continues && within(to, month) && to - from < minMs) {
      c.early_deletion_gb_months += (billedGb * (minMs - (to - from))) / monthMs;
    }
    if (within(from, month)) c.put_requests += o.requests ?? 1;
    if (o.deletedAt && !o.continues && within(to, month)) c.list_requests += 1;
  }

  for (const l of listings) if (within(l.at.getTime(), month)) tiers[l.tier].list_requests += l.requests;

  const egressGb = Object.fromEntries(STORAGE_TIERS.map((t) => [t, 0])) as Record<StorageTier, number>;
  for (const r of reads) {
    if (!within(r.at.getTime(), month)) continue;
    const gb = r.bytes / prices.bytes_per_gb[r.tier];
    tiers[r.tier].retrieval_dollars += gb * prices.retrieval_per_gb[r.tier];
    tiers[r.tier].get_requests += r.requests ?? 3;
    if (r.egress !== false) egressGb[r.tier] += gb;
  }
  // B2: downloads are free up to 3× the month's average stored data (gb_months is that average).
  for (const t of STORAGE_TIERS) {
    const free = prices.free_egress_stored_multiple[t] * tiers[t].gb_months;
    tiers[t].egress_dollars = Math.max(0, egressGb[t] - free) * prices.egress_per_gb[t];
  }

  let total = 0;
  for (const t of STORAGE_TIERS) {
    const c = tiers[t];
    c.storage_dollars = c.gb_months * prices.storage_per_gb_month[t];
    c.early_deletion_dollars = c.early_deletion_gb_months * prices.storage_per_gb_month[t];
    c.request_dollars =
      (c.put_requests / 1000) * prices.put_per_1000[t] +
      (c.list_requests / 1000) * prices.list_per_1000[t] +
      (c.get_requests / 1000) * prices.get_per_1000[t];
    c.total_dollars = c.storage_dollars + c.early_deletion_dollars + c.request_dollars + c.retrieval_dollars + c.egress_dollars;
    total += c.total_dollars;
  }
  return { month_start: month.start, month_end: month.end, tiers, total_dollars: total };
}

/** The same objects kept for the same time, all priced as S3 Standard: what tiering is compared to. */
export function allStandardCost(objects: StoredObject[], month: BillingMonth, prices: PriceTable, reads: ObjectRead[] = [], listings: BucketListing[] = []): MonthCost {
  const asStandard = <T extends { tier: StorageTier }>(x: T): T => ({ ...x, tier: 's3_standard' });
  return monthCost(objects.map(asStandard), month, prices, reads.map(asStandard), listings.map(asStandard));
}

/** What tiering saves against all-Standard; percent of the all-Standard bill (0 when that is $0). */
export function savings(hybrid: MonthCost, allStandard: MonthCost): { dollars: number; percent: number } {
  const dollars = allStandard.total_dollars - hybrid.total_dollars;
  return { dollars, percent: allStandard.total_dollars > 0 ? (dollars / allStandard.total_dollars) * 100 : 0 };
}

/** The UTC calendar month containing `at`. */
export function billingMonthOf(at: Date): BillingMonth {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  return { start: new Date(Date.UTC(y, m, 1)), end: new Date(Date.UTC(y, m + 1, 1)) };
}
