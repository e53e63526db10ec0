// Which copy of a backup point a restore or a verification reads (design.md "Restore"). A backup point (one dump,
// one dump_group) may be stored as several copies; the restore names one of them and, unless an
// admin asked for exactly that copy, reads the best one still there: S3 Standard (in-region, no
// retrieval fee), then B2 (cheap egress), then Standard-IA (retrieval fee). Every copy carries its
// own manifest and the same checksums, so the checks that follow are the same whichever is read.
import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { backupJobs, restoreJobs, type BackupJobRow, type RestoreJobRow } from '../db/schema.ts';
import { COPY_READ_ORDER, type StorageTier } from '../domain.ts';
import { RestoreNotFoundError } from './errors.ts';

export interface CopyChoice {
  id: string;
  storageTier: string;
  status: string;
  backupLocation: string | null;
}

const rank = (tier: string) => {
  const i = COPY_READ_ORDER.indexOf(tier as StorageTier);
  return i < 0 ? COPY_READ_ORDER.length : i;
};

/**
 * The copy to read: `named` itself when `exact`, else the first completed, stored copy of the
 * point in COPY_READ_ORDER (ties by id). Falls back to `named` when no copy is readable, so the
 * caller's own "not completed" refusal names the backup that was asked for.
 */
export function chooseCopy<T extends CopyChoice>(named: T, copies: readonly T[], opts: { exact?: boolean } = {}): T {
  if (opts.exact) return named;
  const readable = copies.filter((c) => c.status === 'completed' && c.backupLocation !== null);
  readable.sort((a, b) => rank(a.storageTier) - rank(b.storageTier) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return readable[0] ?? named;
}

/** The copy of `named`'s backup point to read: `named` itself when `exact`, else the best one (chooseCopy). */
export async function copyToRead(db: Db, named: BackupJobRow, exact: boolean): Promise<BackupJobRow> {
  if (exact) return named;
  const copies = await db.select().from(backupJobs).where(and(eq(backupJobs.dumpGroup, named.dumpGroup), eq(backupJobs.tenantId, named.tenantId)));
  return chooseCopy(named, copies);
}

/**
 * The backup row a restore reads: the best copy of the point its backup_id belongs to (or exactly
 * that copy when restore_jobs.exact_copy), recorded on the restore as copy_backup_id.
 */
export async function restoreCopy(db: Db, restore: Pick<RestoreJobRow, 'id' | 'backupId' | 'exactCopy'>): Promise<BackupJobRow> {
  const [named] = await db.select().from(backupJobs).where(eq(backupJobs.id, restore.backupId!));
  if (!named) throw new RestoreNotFoundError(`backup ${restore.backupId}`, 'backup_id');
  const copy = await copyToRead(db, named, restore.exactCopy);
  await db.update(restoreJobs).set({ copyBackupId: copy.id }).where(eq(restoreJobs.id, restore.id));
  return copy;
}
