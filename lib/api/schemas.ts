// Request shapes of the HTTP API (docs/design.md "HTTP API"), validated by the routes. lib/api/openapi.ts
// describes them separately for clients.
import { z } from 'zod';
import { RESTORE_MODES, storageTierSchema, tenantIdSchema, uuidSchema } from '../domain.ts';

export const createBackupBody = z.object({
  tenant_id: tenantIdSchema,
  backup_type: z.enum(['full', 'incremental'], 'backup_type must be "full" or "incremental"').optional(),
  storage_tier: storageTierSchema.optional(),
});

export const restoreBody = z.object({
  tenant_id: tenantIdSchema,
  backup_job_id: uuidSchema,
  mode: z.enum(RESTORE_MODES, 'mode must be in_place or clone').optional(),
  target_schema: z.string().max(200).optional(),
  confirm: z.string('confirm is required: the tenant’s name (in_place) or the new schema name (clone)').max(300),
  /** issue 13: restore a backup whose manifest is unsigned (taken before signing existed); admin only. */
  allow_unsigned: z.boolean('allow_unsigned must be true or false').optional(),
  /** Read exactly this copy, not the best copy of its backup point (design.md "Restore"). */
  exact_copy: z.boolean('exact_copy must be true or false').optional(),
});

export const tenantParams = z.object({ tenantId: tenantIdSchema });
export const idParams = z.object({ id: uuidSchema });

export const listQuery = z.object({
  limit: z.coerce.number().int('limit must be an integer').min(1, 'limit must be at least 1').max(100, 'limit must be at most 100').default(20),
  cursor: z.string().max(200).optional(),
});
