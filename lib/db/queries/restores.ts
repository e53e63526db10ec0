// Restores of a tenant, and which one (if any) can still be undone.
import { eq } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { newestFirst } from '../order.ts';
import { restoreJobs, type RestoreJobRow } from '../schema.ts';

export async function restoreById(db: Db, id: string): Promise<RestoreJobRow | null> {
  const rows = await db.select().from(restoreJobs).where(eq(restoreJobs.id, id)).limit(1);
  return rows[0] ?? null;
}

export async function tenantRestores(db: Db, tenantId: string, limit = 20): Promise<RestoreJobRow[]> {
  return db.select().from(restoreJobs).where(eq(restoreJobs.tenantId, tenantId)).orderBy(newestFirst(restoreJobs.createdAt), newestFirst(restoreJobs.seq)).limit(limit);
}

/**
 * The tenant's latest restore when it can be undone: it replaced the live schema (in place or
 * cross-tenant), completed, and its moved-aside copy has not been dropped yet.
 */
export function undoable(latest: RestoreJobRow | undefined, now = new Date()): RestoreJobRow | null {
  if (!latest || latest.status !== 'completed' || latest.mode === 'clone') return null;
  if (!latest.movedAsideSchema || latest.undoDroppedAt) return null;
  if (latest.undoExpiresAt && latest.undoExpiresAt.getTime() <= now.getTime()) return null;
  return latest;
}

