// "Back up now": one pending row per storage tier (a worker runs it), audited.
import type { Db } from '../../db/client.ts';
import type { BackupType, StorageTier } from '../../domain.ts';
import type { BaseConfig } from '../../env.ts';
import { createBackupGroup } from '../../backup/create.ts';
import { FILES_OFF_MESSAGE, filesEnabled } from '../../files/source.ts';
import { audit } from '../../audit.ts';
import type { Actor } from '../../auth/session.ts';
import { badRequest } from '../errors.ts';

export interface BackupInput {
  tenantId: string;
  storageTier: StorageTier;
  backupType?: BackupType;
  /** Also back up the tenant's files (design.md "Tenant files"). Refused when files are off. */
  includeFiles?: boolean;
}

/**
 * `config` says whether tenant files are on (STRATA_FILES_BUCKET): with includeFiles and files off
 * the request is refused here, as a 400 naming include_files, rather than failing in the worker.
 */
export async function requestBackup(db: Db, actor: Actor, input: BackupInput, config?: BaseConfig) {
  if (input.includeFiles && config && !filesEnabled(config)) throw badRequest(`include_files: ${FILES_OFF_MESSAGE}`, 'include_files');
  const rows = await createBackupGroup(db, {
    backupType: input.backupType,
    tenantId: input.tenantId,
    storageTiers: [input.storageTier],
    origin: 'manual',
    requestedBy: actor.name,
    includeFiles: input.includeFiles === true,
  });
  const job = rows[0]!;
  await audit(db, {
    actor: actor.name,
    action: 'backup.create',
    target: input.tenantId,
    details: {
      backup_id: job.id,
      storage_tier: input.storageTier,
      backup_type: job.backupType,
      via: actor.via,
      ...(job.includeFiles ? { include_files: true } : {}),
    },
  });
  return job;
}
