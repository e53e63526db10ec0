// Creating restore rows (what the CLI, the API and the dashboard call): validated, with typed errors.
// One restore per tenant at a time is the database's rule (restore_jobs_one_active_uq); its violation
// becomes RestoreConflictError.
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { findPlatformTenant, platformTenantsSql } from '../db/platform.ts';
import { backupJobs, restoreJobs, type BackupJobRow, type RestoreJobRow } from '../db/schema.ts';
import { schemaNameSchema, uuidSchema, type RestoreMode } from '../domain.ts';
import { schemaExists } from './catalog.ts';
import { filesPrefixSchema } from '../files/index-format.ts';
import { RestoreConflictError, RestoreNotFoundError, RestoreRequestError, UndoNotAllowedError } from './errors.ts';
import { undoRefusal } from './undo.ts';

export interface CreateRestoreInput {
  backupId: string;
  mode: RestoreMode;
  /** clone: the new schema's name (required). in_place: optional, must equal the target tenant's schema. */
  targetSchema?: string;
  /** in_place onto another tenant (cross-tenant): that tenant's id; needs crossTenant: true. */
  targetTenantId?: string;
  crossTenant?: boolean;
  requestedBy: string;
  /** An admin confirmed restoring a backup whose manifest is unsigned (issue 13; taken before signing existed). */
  allowUnsigned?: boolean;
  /** Read exactly this copy, not the best copy of its backup point (lib/restore/best-copy.ts). */
  exactCopy?: boolean;
  /** Also write the backup's files back (design.md "Tenant files"). */
  restoreFiles?: boolean;
  /** Only the files, not the database (resuming a file restore). Needs restoreFiles. */
  filesOnly?: boolean;
  /** Where the files go: a clone needs one (a new prefix); in place they go to the tenant's own. */
  filesPrefix?: string;
  /** Delete objects under the prefix that the backup's index does not list. Needs restoreFiles. */
  deleteExtra?: boolean;
}

/** The file columns of a restore row, validated against the request and the backup. */
function fileColumns(input: CreateRestoreInput, backup: BackupJobRow): Pick<typeof restoreJobs.$inferInsert, 'restoreFiles' | 'filesOnly' | 'filesPrefix' | 'deleteExtra' | 'filesStatus'> {
  const restoreFiles = input.restoreFiles === true;
  if (!restoreFiles) {
    if (input.filesOnly) throw new RestoreRequestError('files_only needs restoreFiles: true', 'files_only');
    if (input.deleteExtra) throw new RestoreRequestError('delete_extra needs restoreFiles: true', 'delete_extra');
    if (input.filesPrefix !== undefined) throw new RestoreRequestError('files_prefix needs restoreFiles: true', 'files_prefix');
    return {};
  }
  if (!backup.includeFiles) throw new RestoreRequestError(`backup ${backup.id} holds no files (it was taken without includeFiles)`, 'restore_files');
  let filesPrefix: string | null = null;
  if (input.mode === 'clone') {
    const parsed = filesPrefixSchema.safeParse(input.filesPrefix ?? '');
    if (!parsed.success) throw new RestoreRequestError(`a clone with files needs files_prefix, a new prefix for them: ${parsed.error.issues[0]!.message}`, 'files_prefix');
    if (parsed.data === backup.filesPrefix) throw new RestoreRequestError(`files_prefix ${parsed.data} is the tenant's own: a clone needs a new prefix`, 'files_prefix');
    filesPrefix = parsed.data;
  } else if (input.filesPrefix !== undefined) {
    throw new RestoreRequestError("an in-place restore writes the files back under the tenant's own prefix; use a clone for another prefix", 'files_prefix');
  }
  return { restoreFiles: true, filesOnly: input.filesOnly === true, filesPrefix, deleteExtra: input.deleteExtra === true, filesStatus: 'pending' };
}

function isActiveRestoreViolation(err: unknown): boolean {
  for (let e = err as { code?: string; constraint?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === '23505' && e.constraint === 'restore_jobs_one_active_uq') return true;
  }
  return false;
}

async function insertRestore(db: Db, values: typeof restoreJobs.$inferInsert): Promise<RestoreJobRow> {
  try {
    const [row] = await db.insert(restoreJobs).values(values).returning();
    return row!;
  } catch (err) {
    if (isActiveRestoreViolation(err)) throw new RestoreConflictError(values.tenantId);
    throw err;
  }
}

export async function createRestore(db: Db, input: CreateRestoreInput): Promise<RestoreJobRow> {
  if (!uuidSchema.safeParse(input.backupId).success) throw new RestoreRequestError('backup id must be a UUID', 'backup_id');
  if (input.mode !== 'in_place' && input.mode !== 'clone') throw new RestoreRequestError('mode must be in_place or clone', 'mode');
  const [backup] = await db.select().from(backupJobs).where(eq(backupJobs.id, input.backupId));
  if (!backup) throw new RestoreNotFoundError(`backup ${input.backupId}`, 'backup_id');
  // A backup point stays restorable while any copy of it is completed (the restore reads the best one).
  const pointAlive =
    !input.exactCopy &&
    (await db.select({ id: backupJobs.id }).from(backupJobs).where(and(eq(backupJobs.dumpGroup, backup.dumpGroup), eq(backupJobs.tenantId, backup.tenantId), eq(backupJobs.status, 'completed'))).limit(1)).length > 0;
  if (backup.status !== 'completed' && !pointAlive) {
    throw new RestoreRequestError(`backup ${backup.id} is ${backup.status}; only a completed backup can be restored`, 'backup_id');
  }

  const files = fileColumns(input, backup);
  if (files.filesOnly) {
    // Only files: the schema is not touched, so it needs no new name; the tenant is the backup's (or the named one).
    const tenant = await findPlatformTenant(db, input.targetTenantId ?? backup.tenantId);
    if (!tenant) throw new RestoreNotFoundError(`tenant ${input.targetTenantId ?? backup.tenantId}`, 'tenant_id');
    if (tenant.id !== backup.tenantId && input.crossTenant !== true) {
      throw new RestoreRequestError(`backup ${backup.id} belongs to tenant ${backup.tenantId}: its files onto tenant ${tenant.id} need the cross-tenant confirmation`, 'cross_tenant');
    }
    return insertRestore(db, { tenantId: tenant.id, backupId: backup.id, mode: input.mode, targetSchema: tenant.schemaName, requestedBy: input.requestedBy, exactCopy: input.exactCopy ?? false, ...files });
  }
  if (input.mode === 'clone') {
    if (input.targetTenantId || input.crossTenant) {
      throw new RestoreRequestError('a clone goes into a new schema, not onto a tenant', 'target_tenant');
    }
    const parsed = schemaNameSchema.safeParse(input.targetSchema ?? '');
    if (!parsed.success) throw new RestoreRequestError(parsed.error.issues[0]!.message, 'target_schema');
    const name = parsed.data;
    const owner = (await db.execute(sql`select 1 from ${platformTenantsSql} t where t.schema_name = ${name}`)).rows.length > 0;
    if (owner || (await schemaExists(db, name))) {
      throw new RestoreRequestError(`schema ${JSON.stringify(name)} already exists: a clone needs a new name`, 'target_schema');
    }
    return insertRestore(db, {
      tenantId: backup.tenantId,
      backupId: backup.id,
      mode: 'clone',
      targetSchema: name,
      requestedBy: input.requestedBy,
      allowUnsigned: input.allowUnsigned === true,
      exactCopy: input.exactCopy ?? false,
      ...files,
    });
  }

  const targetTenantId = input.targetTenantId ?? backup.tenantId;
  if (targetTenantId !== backup.tenantId && input.crossTenant !== true) {
    throw new RestoreRequestError(
      `backup ${backup.id} belongs to tenant ${backup.tenantId}: restoring it onto tenant ${targetTenantId} needs the cross-tenant confirmation`,
      'cross_tenant',
    );
  }
  const tenant = await findPlatformTenant(db, targetTenantId);
  if (!tenant) throw new RestoreNotFoundError(`tenant ${targetTenantId}`, input.targetTenantId ? 'target_tenant' : 'tenant_id');
  if (input.targetSchema !== undefined && input.targetSchema !== tenant.schemaName) {
    throw new RestoreRequestError(
      `an in-place restore overwrites tenant ${tenant.id}'s schema ${JSON.stringify(tenant.schemaName)}; use a clone for another name`,
      'target_schema',
    );
  }
  return insertRestore(db, {
    tenantId: tenant.id,
    backupId: backup.id,
    mode: 'in_place',
    targetSchema: tenant.schemaName,
    requestedBy: input.requestedBy,
    allowUnsigned: input.allowUnsigned === true,
    exactCopy: input.exactCopy ?? false,
    ...files,
  });
}

export async function createUndo(db: Db, input: { restoreId: string; requestedBy: string }): Promise<RestoreJobRow> {
  if (!uuidSchema.safeParse(input.restoreId).success) throw new RestoreRequestError('restore id must be a UUID', 'restore_id');
  const [undone] = await db.select().from(restoreJobs).where(eq(restoreJobs.id, input.restoreId));
  if (!undone) throw new RestoreNotFoundError(`restore ${input.restoreId}`, 'restore_id');
  const refusal = await undoRefusal(db, undone);
  if (refusal) throw new UndoNotAllowedError(refusal);
  return insertRestore(db, {
    tenantId: undone.tenantId,
    backupId: null,
    mode: 'in_place',
    targetSchema: undone.targetSchema,
    undoes: undone.id,
    requestedBy: input.requestedBy,
  });
}
