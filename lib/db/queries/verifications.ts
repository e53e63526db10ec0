// Verifications (restore tests) of a tenant's backups.
import { desc, eq } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { backupVerifications, type VerificationRow } from '../schema.ts';

export async function tenantVerifications(db: Db, tenantId: string, limit = 20): Promise<VerificationRow[]> {
  return db
    .select()
    .from(backupVerifications)
    .where(eq(backupVerifications.tenantId, tenantId))
    .orderBy(desc(backupVerifications.createdAt))
    .limit(limit);
}
