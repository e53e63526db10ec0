// This month's storage bill and what tiering saves against keeping everything in S3 Standard.
import type { Db } from '../client.ts';
import { STORAGE_TIERS, type StorageTier } from '../../domain.ts';
import { allStandardCost, billingMonthOf, monthCost, savings, type StoredObject } from '../../cost/model.ts';
import { DEFAULT_PRICES } from '../../cost/prices.ts';
import { storedDuring } from './backups.ts';

export async function currentMonthCost(db: Db, now = new Date()) {
  const month = billingMonthOf(now);
  const rows = await storedDuring(db, month.start, month.end);
  const objects: StoredObject[] = rows
    .filter((r): r is typeof r & { completedAt: Date; bytes: number } => r.completedAt !== null && r.bytes !== null)
    .filter((r) => (STORAGE_TIERS as readonly string[]).includes(r.storageTier))
    .map((r) => ({ tier: r.storageTier as StorageTier, bytes: r.bytes, storedFrom: r.completedAt, deletedAt: r.deletedAt }));
  // Bill to date would undercount: project the month as if today's objects stay to its end.
  const hybrid = monthCost(objects, month, DEFAULT_PRICES);
  const standard = allStandardCost(objects, month, DEFAULT_PRICES);
  return { month, hybrid, standard, savings: savings(hybrid, standard), prices: DEFAULT_PRICES };
}
