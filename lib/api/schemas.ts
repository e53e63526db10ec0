// Request shapes of the HTTP API (docs/design.md "HTTP API"), validated by the routes. lib/api/openapi.ts
// describes them separately for clients.
import { z } from 'zod';
import { RESTORE_MODES, storageTierSchema, tenantIdSchema, uuidSchema } from '../domain.ts';

const bool = (name: string) => z.boolean(`${name} must be true or false`).optional();

/**
 * The tenant-file fields (design.md "Tenant files") are accepted in both spellings: snake_case like
 * every other field of these bodies, and camelCase (`includeFiles`, `restoreFiles`, …), the names the
 * backup and restore configurations use. Both at once must agree.
 */
function oneSpelling<T extends Record<string, unknown>>(pairs: readonly (readonly [keyof T & string, keyof T & string])[]) {
  return (body: T, ctx: z.RefinementCtx) => {
    for (const [snake, camel] of pairs) {
      if (body[snake] !== undefined && body[camel] !== undefined && body[snake] !== body[camel]) {
        ctx.addIssue({ code: 'custom', path: [snake], message: `${snake} and ${camel} are the same field and disagree; send one of them` });
      }
    }
  };
}

export const createBackupBody = z
  .object({
    tenant_id: tenantIdSchema,
    backup_type: z.enum(['full', 'incremental'], 'backup_type must be "full" or "incremental"').optional(),
    storage_tier: storageTierSchema.optional(),
    /** Also back up the tenant's files (design.md "Tenant files"); default false. */
    include_files: bool('include_files'),
    includeFiles: bool('includeFiles'),
  })
  .superRefine(oneSpelling([['include_files', 'includeFiles']]))
  .transform(({ includeFiles, include_files, ...rest }) => ({ ...rest, include_files: include_files ?? includeFiles ?? false }));

export const restoreBody = z
  .object({
    tenant_id: tenantIdSchema,
    backup_job_id: uuidSchema,
    mode: z.enum(RESTORE_MODES, 'mode must be in_place or clone').optional(),
    target_schema: z.string().max(200).optional(),
    confirm: z.string('confirm is required: the tenant’s name (in_place) or the new schema name (clone)').max(300),
    /** issue 13: restore a backup whose manifest is unsigned (taken before signing existed); admin only. */
    allow_unsigned: z.boolean('allow_unsigned must be true or false').optional(),
    /** Read exactly this copy, not the best copy of its backup point (design.md "Restore"). */
    exact_copy: z.boolean('exact_copy must be true or false').optional(),
    // Tenant files (design.md "Tenant files"); lib/restore/create.ts checks how they combine.
    restore_files: bool('restore_files'),
    restoreFiles: bool('restoreFiles'),
    files_prefix: z.string('files_prefix must be a string').max(512).optional(),
    filesPrefix: z.string('filesPrefix must be a string').max(512).optional(),
    delete_extra: bool('delete_extra'),
    deleteExtra: bool('deleteExtra'),
    files_only: bool('files_only'),
    filesOnly: bool('filesOnly'),
  })
  .superRefine(
    oneSpelling([
      ['restore_files', 'restoreFiles'],
      ['files_prefix', 'filesPrefix'],
      ['delete_extra', 'deleteExtra'],
      ['files_only', 'filesOnly'],
    ]),
  )
  .transform(({ restoreFiles, filesPrefix, deleteExtra, filesOnly, ...rest }) => ({
    ...rest,
    restore_files: rest.restore_files ?? restoreFiles,
    files_prefix: rest.files_prefix ?? filesPrefix,
    delete_extra: rest.delete_extra ?? deleteExtra,
    files_only: rest.files_only ?? filesOnly,
  }));

export const tenantParams = z.object({ tenantId: tenantIdSchema });
export const idParams = z.object({ id: uuidSchema });

export const listQuery = z.object({
  limit: z.coerce.number().int('limit must be an integer').min(1, 'limit must be at least 1').max(100, 'limit must be at most 100').default(20),
  cursor: z.string().max(200).optional(),
});
