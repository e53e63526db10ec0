// Restores asked for by a person: the typed confirmation is checked here, on the server, whatever
// the browser did. The worker does the work; this only validates and records the request.
import type { Db } from '../../db/client.ts';
import { schemaNameSchema, type RestoreMode } from '../../domain.ts';
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
}

/** What the confirmation must equal, and a sentence saying so. */
export function expectedConfirmation(mode: RestoreMode, tenantName: string, targetSchema?: string): string {
  return mode === 'clone' ? (targetSchema ?? '') : tenantName;
}

export async function requestRestore(db: Db, actor: Actor, input: RestoreInput) {
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
  let targetSchema: string | undefined;
  let expected: string;
  let overwrites: string | null = tenant.id;
  if (input.mode === 'clone') {
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
        ? 'confirm must equal the new schema name exactly'
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
