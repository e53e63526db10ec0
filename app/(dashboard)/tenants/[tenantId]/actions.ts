'use server';
// Tenant page mutations. Each one: requireRole on the server, zod, one lib call, audited there.
import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { validatedAction } from '@/lib/api/action';
import { appContext } from '@/lib/api/context';
import { appConfig, appDb } from '@/lib/db/queries/connection';
import { BACKUP_TYPES, RESTORE_MODES, SCHEDULE_TYPES, storageTierSchema, tenantIdSchema, uuidSchema } from '@/lib/domain';
import { requestBackup } from '@/lib/api/operations/backup';
import { requestRestore, requestUndo } from '@/lib/api/operations/restore';
import { requestVerification } from '@/lib/api/operations/verify';
import { setSchedulePaused } from '@/lib/api/operations/schedule';
import { setBackupHold } from '@/lib/api/operations/hold';
import { offboardTenant } from '@/lib/api/operations/tenant';
import { deletionConfirmation } from '@/lib/api/confirmations';

const tenantPath = (tenantId: string) => `/tenants/${encodeURIComponent(tenantId)}`;
const flag = z.enum(['true', 'false']).transform((v) => v === 'true');
/** A form checkbox: sent ("true", or the browser's "on") when ticked, absent when not. */
const checkbox = z
  .enum(['true', 'on', 'false'], 'must be a checkbox value')
  .optional()
  .transform((v) => v === 'true' || v === 'on');

export const backupNowAction = validatedAction(
  'operator',
  z.object({ tenantId: tenantIdSchema, storageTier: storageTierSchema, backupType: z.enum(BACKUP_TYPES).default('full'), includeFiles: checkbox }),
  async (input, actor) => {
    // With includeFiles and tenant files off (no STRATA_FILES_BUCKET) the operation refuses, naming it.
    const job = await requestBackup(appDb(), actor, input, appConfig());
    revalidatePath(tenantPath(input.tenantId));
    const what = `${input.backupType === 'incremental' ? 'Incremental backup' : 'Backup'}${input.includeFiles ? ' with files' : ''}`;
    return { message: `${what} to ${input.storageTier} queued.`, data: { id: job.id } };
  },
);

export const verifyAction = validatedAction('operator', z.object({ tenantId: tenantIdSchema, backupId: uuidSchema }), async (input, actor) => {
  await requestVerification(appDb(), actor, input.backupId);
  revalidatePath(tenantPath(input.tenantId));
  return { message: 'Verification queued.' };
});

export const restoreAction = validatedAction(
  'admin',
  z
    .object({
      tenantId: tenantIdSchema,
      backupId: uuidSchema,
      mode: z.enum(RESTORE_MODES),
      targetSchema: z.string().max(200).optional(),
      targetTenantId: tenantIdSchema.optional(),
      confirm: z.string().max(300),
      /** The admin ticked "I trust this unsigned backup" (the server still refuses a row known as signed). */
      allowUnsigned: z.boolean().optional(),
      // Tenant files (design.md "Tenant files"); lib/restore/create.ts checks how they combine with the backup.
      restoreFiles: z.boolean().optional(),
      filesOnly: z.boolean().optional(),
      /** A clone's new files prefix. */
      filesPrefix: z.string().trim().min(1, 'enter the new files prefix').max(512).optional(),
      deleteExtra: z.boolean().optional(),
      /** The second confirmation "Delete objects not in the backup" asks for: what deletionConfirmation() says. */
      deleteExtraConfirm: z.string().max(600).optional(),
    })
    .superRefine((input, ctx) => {
      if (!input.deleteExtra) return;
      const expected = deletionConfirmation(input);
      if (input.deleteExtraConfirm !== expected) {
        ctx.addIssue({ code: 'custom', path: ['deleteExtraConfirm'], message: `deleting objects not in the backup needs a second confirmation: type ${expected}` });
      }
    }),
  async ({ deleteExtraConfirm: _confirmed, ...input }, actor) => {
    const restore = await requestRestore(appDb(), actor, input, appConfig());
    revalidatePath(tenantPath(input.tenantId));
    return { message: 'Restore queued.', data: { id: restore.id } };
  },
);

export const undoAction = validatedAction('admin', z.object({ tenantId: tenantIdSchema, restoreId: uuidSchema }), async (input, actor) => {
  const undo = await requestUndo(appDb(), actor, input.restoreId);
  revalidatePath(tenantPath(input.tenantId));
  return { message: 'Undo queued.', data: { id: undo.id } };
});

export const holdAction = validatedAction('admin', z.object({ tenantId: tenantIdSchema, backupId: uuidSchema, on: flag }), async (input, actor) => {
  await setBackupHold(appContext(), actor, input.backupId, input.on);
  revalidatePath(tenantPath(input.tenantId));
  return { message: input.on ? 'Legal hold placed.' : 'Legal hold lifted.' };
});

export const scheduleAction = validatedAction(
  'admin',
  z.object({ tenantId: tenantIdSchema, scheduleType: z.enum(SCHEDULE_TYPES), paused: flag }),
  async (input, actor) => {
    await setSchedulePaused(appDb(), actor, input.tenantId, input.scheduleType, input.paused);
    revalidatePath(tenantPath(input.tenantId));
    revalidatePath('/schedules');
    return { message: input.paused ? 'Schedule paused.' : 'Schedule resumed.' };
  },
);

export const removeTenantAction = validatedAction(
  'admin',
  z.object({ tenantId: tenantIdSchema, purgeBackups: flag, confirm: z.string().max(300) }),
  async (input, actor) => {
    // No revalidatePath: the page would re-render under the dialog (and may drop the button that
    // holds it) before the outcome is read; the dialog refreshes the page when it closes.
    const result = await offboardTenant(appContext(), actor, input);
    const deleted = result.decisions.length - result.failed.length;
    return {
      message: input.purgeBackups
        ? `Removed. ${deleted} backup${deleted === 1 ? '' : 's'} deleted${result.failed.length ? `; ${result.failed.length} could not be deleted yet and will be retried by prune` : ''}.`
        : 'Removed. Its backups stay listed and expire by policy.',
    };
  },
);
