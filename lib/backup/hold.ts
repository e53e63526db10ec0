// Legal hold: recorded in the catalog and as the `legal-hold` marker object beside the backup, so a
// catalog rebuilt from the stores keeps it (docs/design.md "Retention"). Prune never deletes a held backup.
// Order: the marker is written before the flag is set and removed after it is cleared — a crash in
// between leaves the marker, and a rebuild then errs on the side of keeping the backup.
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { backupJobs, type BackupJobRow } from '../db/schema.ts';
import { uuidSchema } from '../domain.ts';
import type { Stores } from '../storage/registry.ts';
import { parseLocation } from '../storage/types.ts';
import { LEGAL_HOLD_OBJECT, prefixOfObjectKey } from './manifest.ts';
import { isoUtc } from '../iso.ts';

export class LegalHoldError extends Error {
  constructor(
    readonly code: 'bad_request' | 'not_found' | 'conflict',
    message: string,
  ) {
    super(message);
    this.name = 'LegalHoldError';
  }
}

/**
 * Turns a backup's legal hold on or off and returns the updated row. `actor` is written into the marker;
 * the audit entry is the caller's (the API and the CLI audit every mutation themselves).
 */
export async function setLegalHold(db: Db, stores: Stores, backupId: string, on: boolean, actor: string): Promise<BackupJobRow> {
  if (!uuidSchema.safeParse(backupId).success) throw new LegalHoldError('bad_request', `backup id must be a UUID, got ${JSON.stringify(backupId)}`);
  const [backup] = await db.select().from(backupJobs).where(eq(backupJobs.id, backupId));
  if (!backup) throw new LegalHoldError('not_found', `backup ${backupId} does not exist`);
  if (on && backup.status !== 'completed') {
    throw new LegalHoldError('conflict', `backup ${backupId} is ${backup.status}: only a completed backup can be put on legal hold`);
  }
  if (!backup.backupLocation) throw new LegalHoldError('conflict', `backup ${backupId} has no stored objects`);

  const store = stores.forLocation(backup.backupLocation);
  const markerKey = prefixOfObjectKey(parseLocation(backup.backupLocation).key) + LEGAL_HOLD_OBJECT;
  const at = new Date();
  if (on) {
    const marker = { backup_id: backup.id, tenant_id: backup.tenantId, since: isoUtc(at), by: actor };
    await store.put(markerKey, Buffer.from(`${JSON.stringify(marker)}\n`), { contentType: 'application/json' });
  }
  const [updated] = await db.update(backupJobs).set({ legalHold: on }).where(eq(backupJobs.id, backupId)).returning();
  if (!on) await store.delete(markerKey);
  return updated!;
}
