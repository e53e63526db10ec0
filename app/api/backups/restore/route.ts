import { apiRoute } from '@/lib/api/handler';
import { restoreJson } from '@/lib/api/json';
import { requestRestore } from '@/lib/api/operations/restore';
import { restoreBody } from '@/lib/api/schemas';

export const POST = apiRoute({ role: 'admin', body: restoreBody, idempotent: true }, async ({ actor, body, db, config }) => {
  const restore = await requestRestore(
    db,
    actor,
    {
      tenantId: body.tenant_id,
      backupId: body.backup_job_id,
      mode: body.mode ?? 'in_place',
      targetSchema: body.target_schema,
      confirm: body.confirm,
      allowUnsigned: body.allow_unsigned,
      exactCopy: body.exact_copy,
      restoreFiles: body.restore_files,
      filesPrefix: body.files_prefix,
      deleteExtra: body.delete_extra,
      filesOnly: body.files_only,
    },
    config,
  );
  return { status: 202, body: { message: `restore of ${restore.tenantId} queued`, restore: restoreJson(restore) } };
});
