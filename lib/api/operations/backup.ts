// "Back up now": one pending row per storage tier (a worker runs it), audited.
import type { Db } from '../../db/client.ts';
import type { BackupType, StorageTier } from '../../domain.ts';
import { createBackupGroup } from '../../backup/create.ts';
import { audit } from '../../audit.ts';
import type { Actor } from '../../auth/session.ts';

export async function requestBackup(db: Db, actor: Actor, input: { tenantId: string; storageTier: StorageTier; backupType?: BackupType }) {
  const rows = await createBackupGroup(db, {
    backupType: input.backupType,
    tenantId: input.tenantId,
    storageTiers: [input.storageTier],
    origin: 'manual',
    requestedBy: actor.name,
  });
  const job = rows[0]!;
  await audit(db, {
    actor: actor.name,
    action: 'backup.create',
    target: input.tenantId,
    details: { backup_id: job.id, storage_tier: input.storageTier, backup_type: job.backupType, via: actor.via },
  });
  return job;
}
