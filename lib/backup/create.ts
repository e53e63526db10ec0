// Asking for a backup: one pending row per storage tier, all sharing one dump_group (one dump,
// stored once per tier). The CLI, the API and the scheduler call this; a worker runs the group.
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/client.ts';
import { findPlatformTenant } from '../db/platform.ts';
import { backupJobs, type BackupJobRow } from '../db/schema.ts';
import { BACKUP_TYPES, ORIGINS, STORAGE_TIERS, TENANT_ID_RE, type BackupType, type Origin, type StorageTier } from '../domain.ts';

export class BackupRequestError extends Error {
  constructor(
    readonly code: 'bad_request' | 'not_found',
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'BackupRequestError';
  }
}

export interface BackupRequest {
  tenantId: string;
  storageTiers: StorageTier[];
  origin: Origin;
  requestedBy: string;
  /** 'full' (default) or 'incremental' (only chunks each tier lacks are uploaded). */
  backupType?: BackupType;
  /** Also back up the tenant's files (design.md "Tenant files"). */
  includeFiles?: boolean;
}

export async function createBackupGroup(db: Db, request: BackupRequest): Promise<BackupJobRow[]> {
  const { tenantId, origin, requestedBy } = request;
  if (!TENANT_ID_RE.test(tenantId)) {
    throw new BackupRequestError('bad_request', 'tenant id must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$', 'tenant_id');
  }
  const storageTiers = [...new Set(request.storageTiers)];
  if (storageTiers.length === 0) throw new BackupRequestError('bad_request', 'at least one storage tier is needed', 'storage_tier');
  const unknown = storageTiers.find((t) => !STORAGE_TIERS.includes(t));
  if (unknown !== undefined) {
    throw new BackupRequestError('bad_request', `unknown storage tier ${JSON.stringify(unknown)} (${STORAGE_TIERS.join(', ')})`, 'storage_tier');
  }
  if (request.backupType !== undefined && !BACKUP_TYPES.includes(request.backupType)) {
    throw new BackupRequestError('bad_request', `unknown backup type ${JSON.stringify(request.backupType)} (${BACKUP_TYPES.join(', ')})`, 'backup_type');
  }
  if (!ORIGINS.includes(origin)) throw new BackupRequestError('bad_request', `unknown origin ${JSON.stringify(origin)}`, 'origin');

  // The platform's tenants table decides which tenants exist; never a name from the request.
  const tenant = await findPlatformTenant(db, tenantId);
  if (!tenant) throw new BackupRequestError('not_found', `tenant ${tenantId} does not exist (not in the tenants table)`, 'tenant_id');

  const dumpGroup = randomUUID();
  return db
    .insert(backupJobs)
    .values(
      storageTiers.map((storageTier) => ({
        tenantId,
        tierId: tenant.tierId,
        storageTier,
        backupType: request.backupType ?? 'full',
        includeFiles: request.includeFiles ?? false,
        origin,
        status: 'pending',
        dumpGroup,
        requestedBy,
      })),
    )
    .returning();
}
