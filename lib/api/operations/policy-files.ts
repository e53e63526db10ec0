// Which origins of a plan include the tenant's files (design.md "Tenant files"): `strata policy set
// --files`. Applies to backup points the scheduler queues from now on; a point includes files when
// any origin it stands for does. A preview is the same call with dryRun. Audited.
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { platformTenantsSql } from '../../db/platform.ts';
import { backupRetentionPolicies } from '../../db/schema.ts';
import { SCHEDULE_TYPES, type ScheduleType } from '../../domain.ts';
import { audit } from '../../audit.ts';
import { notFound } from '../errors.ts';

/** snake_case: printed as-is by `strata policy set --json`. */
export interface FilesOriginsChange {
  plan: string;
  dry_run: boolean;
  /** Active tenants on the plan. */
  tenants: number;
  before: ScheduleType[];
  after: ScheduleType[];
}

export async function changeFilesOrigins(db: Db, input: { plan: string; filesOrigins: ScheduleType[]; actor: string; dryRun: boolean }): Promise<FilesOriginsChange> {
  const after = SCHEDULE_TYPES.filter((o) => input.filesOrigins.includes(o));
  return db.transaction(async (tx) => {
    const [policy] = await tx.select().from(backupRetentionPolicies).where(eq(backupRetentionPolicies.tierId, input.plan)).for('update');
    if (!policy) throw notFound(`plan ${input.plan} has no retention policy`);
    const tenants = (await tx.execute<{ n: string }>(sql`select count(*) as n from ${platformTenantsSql} t where t.tier_id = ${input.plan}`)).rows[0]!.n;
    const before = SCHEDULE_TYPES.filter((o) => policy.filesOrigins.includes(o));
    const change: FilesOriginsChange = { plan: input.plan, dry_run: input.dryRun, tenants: Number(tenants), before, after };
    if (input.dryRun || before.join() === after.join()) return change;
    await tx.update(backupRetentionPolicies).set({ filesOrigins: after, updatedAt: sql`now()` }).where(eq(backupRetentionPolicies.tierId, input.plan));
    await audit(tx, { actor: input.actor, action: 'policy.files_origins', target: input.plan, details: { before, after } });
    return change;
  });
}
