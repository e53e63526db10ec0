// The one place that knows which backend serves which storage tier (docs/design.md "storage tier").
// Everything else asks for a store by tier, or by a backup's location.
import type { StorageTier } from '../domain.ts';
import type { ConfigFor } from '../env.ts';
import { b2StoreOptionsFromConfig, createB2Store } from './b2.ts';
import { DEFAULT_RETRY, withRetries, type RetryOptions } from './retry.ts';
import { createS3Store, s3StoreOptionsFromConfig } from './s3.ts';
import { parseLocation, type ObjectStore } from './types.ts';

export interface Stores {
  forTier(tier: StorageTier): ObjectStore;
  /** The store holding a `backup_location` (`s3://…` or `b2://…`) of this deployment's buckets. */
  forLocation(location: string): ObjectStore;
  /** Every configured store (b2_cold only when B2 is configured). */
  all(): ObjectStore[];
}

export interface StoresOptions {
  /** Retry policy wrapped around the S3 stores (B2 retries each request itself); `false` for the bare backends. Default DEFAULT_RETRY. */
  retry?: RetryOptions | false;
}

const B2_MISSING =
  'b2_cold needs B2_APPLICATION_KEY_ID, B2_APPLICATION_KEY, B2_BUCKET_NAME and B2_BUCKET_ID to be set (see .env.example)';

export function createStores(config: ConfigFor<'stores'>, options: StoresOptions = {}): Stores {
  const retry = options.retry ?? DEFAULT_RETRY;
  const wrap = (store: ObjectStore) => (retry ? withRetries(store, retry) : store);
  const cache = new Map<StorageTier, ObjectStore>();

  // Stores are built on first use: one client each (s3_standard and s3_ia share the bucket, not the client).
  function forTier(tier: StorageTier): ObjectStore {
    let store = cache.get(tier);
    if (store) return store;
    switch (tier) {
      case 's3_standard':
      case 's3_ia':
        store = wrap(createS3Store(s3StoreOptionsFromConfig(config, tier)));
        break;
      case 'b2_cold':
        if (!config.b2Configured) throw new Error(B2_MISSING);
        // Not wrapped: the B2 backend retries every request itself, with B2's rules (re-authorize on an
        // expired token, a new upload URL per failed upload, back off on 429/503); a second layer here
        // would multiply its attempts (4 × 5 per call).
        store = createB2Store(b2StoreOptionsFromConfig(config));
        break;
      default:
        throw new Error(`unknown storage tier ${JSON.stringify(tier satisfies never)}`);
    }
    cache.set(tier, store);
    return store;
  }

  function forLocation(location: string): ObjectStore {
    const { scheme, bucket } = parseLocation(location);
    if (scheme === 's3') {
      if (bucket !== config.S3_BACKUP_BUCKET) {
        throw new Error(`${location} is in S3 bucket ${bucket}, but S3_BACKUP_BUCKET is ${config.S3_BACKUP_BUCKET}`);
      }
      // Reads, heads and deletes do not depend on the storage class: either S3 store will do.
      return forTier('s3_standard');
    }
    if (!config.b2Configured) throw new Error(`${location}: ${B2_MISSING}`);
    if (bucket !== config.B2_BUCKET_NAME) {
      throw new Error(`${location} is in B2 bucket ${bucket}, but B2_BUCKET_NAME is ${config.B2_BUCKET_NAME}`);
    }
    return forTier('b2_cold');
  }

  function all(): ObjectStore[] {
    const tiers: StorageTier[] = config.b2Configured ? ['s3_standard', 's3_ia', 'b2_cold'] : ['s3_standard', 's3_ia'];
    return tiers.map(forTier);
  }

  return { forTier, forLocation, all };
}
