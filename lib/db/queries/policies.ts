// Retention policies per plan.
import { asc } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { backupRetentionPolicies } from '../schema.ts';

export async function listPolicies(db: Db) {
  return db.select().from(backupRetentionPolicies).orderBy(asc(backupRetentionPolicies.id));
}
