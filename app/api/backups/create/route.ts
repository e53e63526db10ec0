import { apiRoute } from '@/lib/api/handler';
import { backupJson } from '@/lib/api/json';
import { requestBackup } from '@/lib/api/operations/backup';
import { createBackupBody } from '@/lib/api/schemas';

export const POST = apiRoute({ role: 'operator', body: createBackupBody, idempotent: true }, async ({ actor, body, db, config }) => {
  const job = await requestBackup(
    db,
    actor,
    { tenantId: body.tenant_id, storageTier: body.storage_tier ?? 's3_standard', backupType: body.backup_type ?? 'full', includeFiles: body.include_files },
    config,
  );
  return { status: 202, body: { message: `backup of ${job.tenantId} queued`, job: backupJson(job) } };
});
