// Restores asked for by a person: the typed confirmation is checked here, on the server, whatever
// the browser did. The worker does the work; this only validates and records the request.
import type { Db } from '../../db/client.ts';
import { schemaNameSchema, type RestoreMode } from '../../domain.ts';
import type { BaseConfig } from '../../env.ts';
import { FILES_OFF_MESSAGE, filesEnabled } from '../../files/source.ts';
import { createRestore, createUndo } from '../../restore/create.ts';
import { audit } from '../../audit.ts';
import type { Actor } from '../../auth/session.ts';
import { backupById } from '../../db/queries/backups.ts';
import { platformTenant } from '../../views/tenants.ts';
import { restoreById } from '../../db/queries/restores.ts';
import { ApiError, badRequest, notFound } from '../errors.ts';

export interface RestoreInput {
  tenantId: string;
  backupId: string;
  mode: RestoreMode;
  targetSchema?: string;
  /** Cross-tenant: overwrite this other tenant's schema (admin, dashboard). */
  targetTenantId?: string;
  confirm: string;
  /** Admin only: restore a backup whose manifest is unsigned (taken before signing existed; issue 13). */
  allowUnsigned?: boolean;
  /** Read exactly the named copy instead of the best copy of its backup point. */
  exactCopy?: boolean;
  /**
   * Tenant files (design.md "Tenant files"): also write back every object of the backup's file index
   * whose current content differs (by SHA-256), after the database part. Needs a backup with files.
   */
  restoreFiles?: boolean;
  /** A clone's files go under this new prefix (required for a clone with files). */
  filesPrefix?: string;
  /** Delete objects under the prefix that the backup's index does not list. Needs restoreFiles. */
  deleteExtra?: boolean;
  /** Only the files, the database untouched (resumes a file restore that failed). Needs restoreFiles. */
  filesOnly?: boolean;
}

/**
 * What the confirmation must equal: the name of the tenant overwritten (in place), the new schema
 * (clone), or, for only a clone's files (files_only, no schema touched), the files prefix written.
 */
export function expectedConfirmation(mode: RestoreMode, tenantName: string, targetSchema?: string, filesOnlyPrefix?: string): string {
  if (mode === 'clone' && filesOnlyPrefix !== undefined) return filesOnlyPrefix;
  return mode === 'clone' ? (targetSchema ?? '') : tenantName;
}

/**
 * `config` says whether tenant files are on (STRATA_FILES_BUCKET): restoring the files of a backup
 * that has them is refused here when they are off (the worker would refuse it anyway, later).
 */
export async function requestRestore(db: Db, actor: Actor, input: RestoreInput, config?: BaseConfig) {
  if (input.allowUnsigned && actor.role !== 'admin') throw new ApiError('forbidden', 'only an admin may restore an unsigned backup', 'allow_unsigned');
  const tenant = await platformTenant(db, input.tenantId);
  if (!tenant) throw new ApiError('not_found', `tenant ${input.tenantId} does not exist`, 'tenant_id');
  const backup = await backupById(db, input.backupId);
  if (!backup || backup.tenantId !== tenant.id) {
    throw new ApiError('not_found', `backup ${input.backupId} of tenant ${tenant.id} does not exist`, 'backup_job_id');
  }
  if (backup.status !== 'completed') {
    throw badRequest(`backup ${backup.id} is ${backup.status}; only a completed backup can be restored`, 'backup_job_id');
  }
  // A backup without files is refused by createRestore (field restore_files); one with files needs the feature on.
  if (input.restoreFiles && backup.includeFiles && config && !filesEnabled(config)) {
    throw badRequest(`restore_files: ${FILES_OFF_MESSAGE}`, 'restore_files');
  }
  let targetSchema: string | undefined;
  let expected: string;
  let overwrites: string | null = tenant.id;
  if (input.mode === 'clone' && input.restoreFiles && input.filesOnly) {
    // Only a clone's files (resuming their file part): no schema is touched, the files prefix is written.
    if (!input.filesPrefix) throw badRequest("files_prefix is required for a clone's files: the prefix they go under", 'files_prefix');
    expected = expectedConfirmation('clone', tenant.name, undefined, input.filesPrefix);
    overwrites = null;
  } else if (input.mode === 'clone') {
    const parsed = schemaNameSchema.safeParse(input.targetSchema ?? '');
    if (!input.targetSchema) throw badRequest('target_schema is required for a clone: the new schema to restore into', 'target_schema');
    if (!parsed.success) throw badRequest(`target_schema: ${parsed.error.issues[0]?.message}`, 'target_schema');
    if (parsed.data === tenant.schemaName) throw badRequest('target_schema must differ from the tenant’s live schema; use mode in_place to replace it', 'target_schema');
    targetSchema = parsed.data;
    expected = targetSchema;
    overwrites = null;
  } else if (input.targetTenantId && input.targetTenantId !== tenant.id) {
    const target = await platformTenant(db, input.targetTenantId);
    if (!target) throw notFound(`target tenant ${input.targetTenantId} does not exist`);
    expected = target.name;
    overwrites = target.id;
  } else {
    expected = tenant.name;
  }
  if (input.confirm !== expected) {
    throw badRequest(
      input.mode === 'clone'
        ? input.restoreFiles && input.filesOnly
          ? 'confirm must equal files_prefix exactly'
          : 'confirm must equal the new schema name exactly'
        : 'confirm must equal the name of the tenant being overwritten, exactly',
      'confirm',
    );
  }
  const restore = await createRestore(db, {
    backupId: backup.id,
    mode: input.mode,
    targetSchema,
    ...(overwrites && overwrites !== tenant.id ? { targetTenantId: overwrites, crossTenant: true } : {}),
    requestedBy: actor.name,
    allowUnsigned: input.allowUnsigned === true,
    exactCopy: input.exactCopy,
    restoreFiles: input.restoreFiles,
    filesPrefix: input.filesPrefix,
    deleteExtra: input.deleteExtra,
    filesOnly: input.filesOnly,
  });
  await audit(db, {
    actor: actor.name,
    action: 'restore.create',
    target: overwrites ?? tenant.id,
    details: {
      restore_id: restore.id,
      backup_id: backup.id,
      mode: input.mode,
      target_schema: restore.targetSchema,
      via: actor.via,
      exact_copy: restore.exactCopy,
      ...(input.allowUnsigned ? { allow_unsigned: true } : {}),
      ...(restore.restoreFiles
        ? { restore_files: true, files_only: restore.filesOnly, files_prefix: restore.filesPrefix, delete_extra: restore.deleteExtra }
        : {}),
    },
  });
  return restore;
}

export async function requestUndo(db: Db, actor: Actor, restoreId: string) {
  const restore = await restoreById(db, restoreId);
  if (!restore) throw notFound(`restore ${restoreId} does not exist`);
  const undo = await createUndo(db, { restoreId, requestedBy: actor.name });
  await audit(db, { actor: actor.name, action: 'restore.undo', target: restore.tenantId, details: { restore_id: undo.id, undoes: restoreId, via: actor.via } });
  return undo;
}
