'use server';
import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { validatedAction } from '@/lib/api/action';
import { appConfig, appDb } from '@/lib/db/queries/connection';
import { backupsByIds } from '@/lib/db/queries/backups';
import { updatePolicy } from '@/lib/api/operations/policy';
import { layoutSchema, planSchema, SCHEDULE_TYPES } from '@/lib/domain';
import { changeBackupTypes } from '@/lib/api/operations/policy-backup-types';
import { changeLayout, type LayoutChange } from '@/lib/api/operations/policy-layout';
import { pricesFromConfig } from '@/lib/cost/billing';

const windows = z.object({
  plan: planSchema,
  dailyRetentionDays: z.coerce.number('a whole number').int('a whole number').min(0, 'at least 0').max(3650, 'at most 3650'),
  weeklyRetentionWeeks: z.coerce.number('a whole number').int('a whole number').min(0, 'at least 0').max(520, 'at most 520'),
  monthlyRetentionMonths: z.coerce.number('a whole number').int('a whole number').min(0, 'at least 0').max(1200, 'at most 1200'),
});

export interface PreviewData {
  considered: number;
  changed: number;
  wouldDelete: number;
  newlyDeleted: number;
  sample: { id: string; tenantId: string; origin: string; startedAt: string | null }[];
}

/** The save, as a dry run: the same updatePolicy saving runs, rolled back. */
export const previewPolicyAction = validatedAction('admin', windows, async ({ plan, ...w }, actor) => {
  const db = appDb();
  const p = await updatePolicy(db, actor, plan, w, appConfig(), { dryRun: true });
  // The backups that only the change deletes first, then the rest prune would delete anyway.
  const newly = new Set(p.newlyDeleted);
  const ids = [...p.newlyDeleted, ...p.wouldDelete.filter((id) => !newly.has(id))].slice(0, 10);
  const rows = new Map((await backupsByIds(db, ids)).map((b) => [b.id, b]));
  const data: PreviewData = {
    considered: p.considered,
    changed: p.changed,
    wouldDelete: p.wouldDelete.length,
    newlyDeleted: p.newlyDeleted.length,
    sample: ids.flatMap((id) => {
      const b = rows.get(id);
      return b ? [{ id, tenantId: b.tenantId, origin: b.origin, startedAt: b.startedAt?.toISOString() ?? null }] : [];
    }),
  };
  return { data };
});

export const savePolicyAction = validatedAction('admin', windows, async ({ plan, ...w }, actor) => {
  const { changed, schedules } = await updatePolicy(appDb(), actor, plan, w, appConfig());
  revalidatePath('/policies');
  revalidatePath('/schedules');
  const followed = schedules?.ran
    ? `Schedules updated (${schedules.schedulesCreated + schedules.schedulesReactivated + schedules.schedulesDeactivated} changed).`
    : 'Schedules follow at the worker’s next pass, within a minute.';
  return { message: `Saved. expires_at recomputed for ${changed} backup${changed === 1 ? '' : 's'} of the ${plan} plan. ${followed}` };
});

const layoutInput = z.object({ plan: planSchema, layout: layoutSchema });

/** The save, as a dry run: the same changeLayout `strata policy set --dry-run` runs. */
export const previewLayoutAction = validatedAction('admin', layoutInput, async ({ plan, layout }, actor) => {
  const config = appConfig();
  const data: LayoutChange = await changeLayout(appDb(), config, { plan, layout, actor: actor.name, dryRun: true, prices: pricesFromConfig(config.STRATA_PRICES_JSON) });
  return { data };
});

export const saveLayoutAction = validatedAction('admin', layoutInput, async ({ plan, layout }, actor) => {
  const config = appConfig();
  const c = await changeLayout(appDb(), config, { plan, layout, actor: actor.name, dryRun: false, prices: pricesFromConfig(config.STRATA_PRICES_JSON) });
  revalidatePath('/policies');
  revalidatePath('/schedules');
  revalidatePath('/cost');
  const incremental = Object.entries(c.backup_types.after).flatMap(([o, t]) => (t === 'incremental' ? [o] : []));
  return {
    message: `Saved: the ${plan} plan's new backups use the ${c.to} layout (${c.stores.after.join(', ') || 'no stores'}; incremental: ${incremental.join(', ') || 'none'}). Existing copies keep their stores, expiries and types.`,
  };
});

const typesInput = z.object({
  plan: planSchema,
  incremental: z
    .string()
    .max(40)
    .transform((v) => (v === '' ? [] : v.split(',')))
    .pipe(z.array(z.enum(SCHEDULE_TYPES, 'daily, weekly or monthly'))),
});

export const saveBackupTypesAction = validatedAction('admin', typesInput, async ({ plan, incremental }, actor) => {
  const c = await changeBackupTypes(appDb(), { plan, incrementalOrigins: incremental, actor: actor.name, dryRun: false });
  revalidatePath('/policies');
  const text = SCHEDULE_TYPES.map((o) => `${o} ${c.after[o]}`).join(', ');
  return { message: `Saved: the ${plan} plan's scheduled backups are ${text}. Existing backups keep their type.` };
});
