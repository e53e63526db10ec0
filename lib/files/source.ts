// Where a tenant's files are: the files bucket of the configuration (STRATA_FILES_*) and the tenant's
// prefix (its override in tenant_state, else STRATA_FILES_PREFIX). Without STRATA_FILES_BUCKET the
// feature is off, and asking for files says so.
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { tenantState } from '../db/schema.ts';
import type { BaseConfig } from '../env.ts';
import { filesBucketFromConfig, type FilesBucket } from '../storage/files-bucket.ts';
import { tenantFilesPrefix } from './index-format.ts';

export const FILES_OFF_MESSAGE = 'tenant files are off: STRATA_FILES_BUCKET is not set (README "Tenant files")';

export class FilesOffError extends Error {
  constructor() {
    super(FILES_OFF_MESSAGE);
    this.name = 'FilesOffError';
  }
}

export function filesEnabled(config: BaseConfig): boolean {
  return Boolean(config.STRATA_FILES_BUCKET);
}

/** The tenant's files prefix: its own (strata tenant set-files-prefix), else the configured template. */
export async function tenantFilesPrefixOf(db: Db, config: BaseConfig, tenantId: string): Promise<string> {
  const [state] = await db.select({ filesPrefix: tenantState.filesPrefix }).from(tenantState).where(eq(tenantState.tenantId, tenantId));
  return tenantFilesPrefix(config.STRATA_FILES_PREFIX, tenantId, state?.filesPrefix);
}

/** The tenant's prefix and a way to open the bucket; throws FilesOffError when files are off. */
export async function filesSource(db: Db, config: BaseConfig, tenantId: string): Promise<{ prefix: string; open: () => FilesBucket }> {
  if (!filesEnabled(config)) throw new FilesOffError();
  const prefix = await tenantFilesPrefixOf(db, config, tenantId);
  return {
    prefix,
    open: () => {
      const bucket = filesBucketFromConfig(config);
      if (!bucket) throw new FilesOffError();
      return bucket;
    },
  };
}
