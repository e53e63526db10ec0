// Backups for restore tests, taken by the real backup engine (createBackupGroup + runBackupGroup):
// one dump stored once per requested storage tier.
import { eq } from 'drizzle-orm';
import { createBackupGroup } from '../backup/create.ts';
import { runBackupGroup } from '../backup/run-backup.ts';
import type { Db } from '../db/client.ts';
import { backupJobs, type BackupJobRow } from '../db/schema.ts';
import type { BackupType, StorageTier } from '../domain.ts';
import type { Config } from '../env.ts';
import type { Stores } from '../storage/registry.ts';

/** Backs the tenant up to each tier; returns the completed rows by tier. */
export async function createTestBackups(
  ctx: { db: Db; config: Config; stores: Stores },
  tenantId: string,
  tiers: StorageTier[],
  backupType: BackupType = 'full',
): Promise<Record<string, BackupJobRow>> {
  const rows = await createBackupGroup(ctx.db, { tenantId, storageTiers: tiers, origin: 'manual', requestedBy: 'test', backupType });
  await runBackupGroup(ctx, rows[0]!.dumpGroup);
  const done = await ctx.db.select().from(backupJobs).where(eq(backupJobs.dumpGroup, rows[0]!.dumpGroup));
  const out: Record<string, BackupJobRow> = {};
  for (const row of done) {
    if (row.status !== 'completed') throw new Error(`test backup ${row.id} is ${row.status}: ${row.errorMessage}`);
    out[row.storageTier] = row;
  }
  return out;
}

/** One completed backup of the tenant in one tier. */
export async function createTestBackup(
  ctx: { db: Db; config: Config; stores: Stores },
  tenantId: string,
  tier: StorageTier = 's3_standard',
): Promise<BackupJobRow> {
  return (await createTestBackups(ctx, tenantId, [tier]))[tier]!;
}
