import { apiRoute } from '@/lib/api/handler';
import { ApiError } from '@/lib/api/errors';
import { backupJson } from '@/lib/api/json';
import { requestBackup } from '@/lib/api/operations/backup';
import { createBackupBody } from '@/lib/api/schemas';

export const POST = apiRoute({ role: 'operator', body: createBackupBody, idempotent: true }, async ({ actor, body, db }) => {
  if (body.backup_type === 'incremental') {
    throw new ApiError('unsupported', 'incremental backups are not supported yet; use backup_type "full"', 'backup_type');
  }
  const job = await requestBackup(db, actor, { tenantId: body.tenant_id, storageTier: body.storage_tier ?? 's3_standard' });
  return { status: 202, body: { message: `backup of ${job.tenantId} queued`, job: backupJson(job) } };
});
