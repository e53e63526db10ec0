// Creating restore rows (what the CLI, the API and the dashboard call): validated, with typed errors.
// One restore per tenant at a time is the database's rule (restore_jobs_one_active_uq); its violation
// becomes RestoreConflictError.
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { findPlatformTenant, platformTenantsSql } from '../db/platform.ts';
import { backupJobs, restoreJobs, type RestoreJobRow } from '../db/schema.ts';
import { schemaNameSchema, uuidSchema, type RestoreMode } from '../domain.ts';
import { schemaExists } from './catalog.ts';
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
