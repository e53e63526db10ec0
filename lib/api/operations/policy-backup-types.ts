// Which origins of a plan back up incrementally (design.md "Incremental backups"): `strata policy set
// --incremental`, and the policies page. Applies to backup points the scheduler queues from now on;
// existing backups keep their type. A preview is the same call with dryRun. Audited.
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { platformTenantsSql } from '../../db/platform.ts';
import { backupRetentionPolicies } from '../../db/schema.ts';
import { SCHEDULE_TYPES, type BackupType, type ScheduleType } from '../../domain.ts';
import { audit } from '../../audit.ts';
import { backupTypesByOrigin } from '../../retention/policies.ts';
import { notFound } from '../errors.ts';

/** snake_case: printed as-is by `strata policy set --json`. */
export interface BackupTypesChange {
  plan: string;
  dry_run: boolean;
  /** Active tenants on the plan. */
  tenants: number;
  before: Record<ScheduleType, BackupType>;
  after: Record<ScheduleType, BackupType>;
}

export async function changeBackupTypes(
  db: Db,
  input: { plan: string; incrementalOrigins: ScheduleType[]; actor: string; dryRun: boolean },
): Promise<BackupTypesChange> {
  const origins = SCHEDULE_TYPES.filter((o) => input.incrementalOrigins.includes(o));
  return db.transaction(async (tx) => {
    const [policy] = await tx.select().from(backupRetentionPolicies).where(eq(backupRetentionPolicies.tierId, input.plan)).for('update');
    if (!policy) throw notFound(`plan ${input.plan} has no retention policy`);
    const tenants = (await tx.execute<{ n: string }>(sql`select count(*) as n from ${platformTenantsSql} t where t.tier_id = ${input.plan}`)).rows[0]!.n;
    const change: BackupTypesChange = {
      plan: input.plan,
      dry_run: input.dryRun,
      tenants: Number(tenants),
      before: backupTypesByOrigin(policy.incrementalOrigins),
      after: backupTypesByOrigin(origins),
    };
    if (input.dryRun || JSON.stringify(change.before) === JSON.stringify(change.after)) return change;
    await tx.update(backupRetentionPolicies).set({ incrementalOrigins: origins, updatedAt: sql`now()` }).where(eq(backupRetentionPolicies.tierId, input.plan));
    await audit(tx, { actor: input.actor, action: 'policy.backup_types', target: input.plan, details: { before: change.before, after: change.after } });
    return change;
  });
}
