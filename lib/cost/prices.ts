// List prices for the three storage tiers. snake_case: `strata cost --json` prints the table as-is.
import type { StorageTier } from '../domain.ts';

export const GIB = 2 ** 30;

type PerTier = Record<StorageTier, number>;

export interface PriceTable {
  /** The date the figures were taken from the providers' pages. */
  as_of: string;
  source: string;
  /**
   * Bytes in a billed "GB". AWS bills GB-months in binary gigabytes (2^30 bytes); Backblaze
   * states sizes in decimal units (10^9 bytes). Per tier so the table says which is which.
   */
  bytes_per_gb: PerTier;
  storage_per_gb_month: PerTier;
  /** An object deleted earlier is charged for the remaining days (S3 Standard-IA: 30). */
  min_storage_days: PerTier;
  /** Smaller objects are billed as this size (S3 Standard-IA: 128 KB = 131,072 bytes). */
  min_billable_object_bytes: PerTier;
  retrieval_per_gb: PerTier;
  /** Internet egress, first pricing band (S3: first 10 TB/month). */
  egress_per_gb: PerTier;
  /** Upload requests (S3 PUT/COPY/POST/LIST class; B2 class A, free). */
  put_per_1000: PerTier;
}

export const DEFAULT_PRICES: PriceTable = {
  as_of: '2025-06-01',
  source:
    'AWS S3 pricing, US East (N. Virginia), first 50 TB band; Backblaze B2 pricing page. ' +
    'Not modelled: free tiers (AWS 100 GB/month egress; B2 first 10 GB storage, free egress up to ' +
    '3x stored, daily free class B/C calls), volume discounts, taxes. Check both pages before quoting.',
  bytes_per_gb: { s3_standard: GIB, s3_ia: GIB, b2_cold: 1e9 },
  storage_per_gb_month: { s3_standard: 0.023, s3_ia: 0.0125, b2_cold: 0.006 },
  min_storage_days: { s3_standard: 0, s3_ia: 30, b2_cold: 0 },
  min_billable_object_bytes: { s3_standard: 0, s3_ia: 128 * 1024, b2_cold: 0 },
  retrieval_per_gb: { s3_standard: 0, s3_ia: 0.01, b2_cold: 0 },
  egress_per_gb: { s3_standard: 0.09, s3_ia: 0.09, b2_cold: 0.01 },
  put_per_1000: { s3_standard: 0.005, s3_ia: 0.01, b2_cold: 0 },
};

export type PriceOverrides = Partial<{
  [K in keyof PriceTable]: PriceTable[K] extends PerTier ? Partial<PerTier> : PriceTable[K];
}>;

/** The default table with some figures replaced, per tier: `{ storage_per_gb_month: { b2_cold: 0.005 } }`. */
export function withPrices(overrides: PriceOverrides = {}, base: PriceTable = DEFAULT_PRICES): PriceTable {
  const out: PriceTable = structuredClone(base);
  for (const key of Object.keys(overrides) as (keyof PriceTable)[]) {
    const value = overrides[key];
    if (value === undefined) continue;
    if (typeof value === 'object') {
      for (const [tier, n] of Object.entries(value)) {
        if (n === undefined) continue;
        if (!(tier in out.storage_per_gb_month)) throw new RangeError(`unknown storage tier in price override: ${tier}`);
        const min = key === 'bytes_per_gb' ? Number.MIN_VALUE : 0;
        if (typeof n !== 'number' || !(n >= min)) throw new RangeError(`price ${key}.${tier} must be a number ≥ ${min}`);
        (out[key] as PerTier)[tier as StorageTier] = n;
      }
    } else {
      (out as unknown as Record<string, unknown>)[key] = value;
    }
  }
  return out;
}
