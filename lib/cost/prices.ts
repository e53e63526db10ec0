// List prices for the three storage tiers, dated, with their sources (design.md "Retention", cost). snake_case: `strata cost --json` prints the table as-is.
import type { StorageTier } from '../domain.ts';

export const GIB = 2 ** 30;

type PerTier = Record<StorageTier, number>;

export interface PriceTable {
  /** The date the figures were taken from the providers' pages. */
  as_of: string;
  source: string;
  /** Where each figure comes from, by field: the pages to check before quoting. */
  sources: Record<string, string>;
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
  /** Standard-IA retrieval, per GB read. */
  retrieval_per_gb: PerTier;
  /** Internet egress, first pricing band (S3: first 10 TB/month; B2: beyond the free allowance). */
  egress_per_gb: PerTier;
  /** B2: egress is free up to this multiple of the month's average stored data (0: no allowance). */
  free_egress_stored_multiple: PerTier;
  /** Upload requests (S3 PUT/COPY/POST; B2 class A, free). A multipart upload is parts + 2. */
  put_per_1000: PerTier;
  /** Listing (S3 LIST, billed like PUT; B2 class C: b2_list_file_names …). Prune lists each prefix it deletes. */
  list_per_1000: PerTier;
  /** Downloads (S3 GET; B2 class B: b2_download_file_*). */
  get_per_1000: PerTier;
}

export const DEFAULT_PRICES: PriceTable = {
  as_of: '2025-06-01',
  source:
    'AWS S3 pricing, US East (N. Virginia), first 50 TB band; Backblaze B2 pricing page. ' +
    'Not modelled: free tiers (AWS 100 GB/month egress; B2 first 10 GB storage, daily free class B/C ' +
    'calls), volume discounts, taxes. Check both pages before quoting.',
  sources: {
    s3: 'https://aws.amazon.com/s3/pricing/ (Storage: S3 Standard first 50 TB $0.023, Standard-IA $0.0125, 30-day and 128 KB minimums; Requests & data retrievals: PUT/COPY/POST/LIST $0.005 and $0.01 per 1,000, GET $0.0004 and $0.001 per 1,000, IA retrieval $0.01/GB; Data transfer: out to internet first 10 TB $0.09/GB)',
    b2: 'https://www.backblaze.com/cloud-storage/pricing and https://www.backblaze.com/cloud-storage/transaction-pricing ($6/TB-month = $0.006/GB; egress free up to 3x the average monthly data stored, then $0.01/GB; class A free, class B $0.004 per 10,000, class C $0.004 per 1,000)',
  },
  bytes_per_gb: { s3_standard: GIB, s3_ia: GIB, b2_cold: 1e9 },
  storage_per_gb_month: { s3_standard: 0.023, s3_ia: 0.0125, b2_cold: 0.006 },
  min_storage_days: { s3_standard: 0, s3_ia: 30, b2_cold: 0 },
  min_billable_object_bytes: { s3_standard: 0, s3_ia: 128 * 1024, b2_cold: 0 },
  retrieval_per_gb: { s3_standard: 0, s3_ia: 0.01, b2_cold: 0 },
  egress_per_gb: { s3_standard: 0.09, s3_ia: 0.09, b2_cold: 0.01 },
  free_egress_stored_multiple: { s3_standard: 0, s3_ia: 0, b2_cold: 3 },
  put_per_1000: { s3_standard: 0.005, s3_ia: 0.01, b2_cold: 0 },
  list_per_1000: { s3_standard: 0.005, s3_ia: 0.01, b2_cold: 0.004 },
  get_per_1000: { s3_standard: 0.0004, s3_ia: 0.001, b2_cold: 0.0004 },
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
    if (key === 'sources') {
      out.sources = { ...out.sources, ...(value as Record<string, string>) };
    } else if (typeof value === 'object') {
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
