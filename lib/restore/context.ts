// What every restore step shares: the context runRestore is called with, and the row's bookkeeping.
import crypto from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { restoreJobs, type RestoreJobRow } from '../db/schema.ts';
import type { Config } from '../env.ts';
import type { Stores } from '../storage/registry.ts';
import { schemaExists } from './catalog.ts';

export interface RestoreContext {
  db: Db;
  config: Config;
  stores: Stores;
  signal?: AbortSignal;
  /**
   * The job queue will run the restore again after this failure (attempts left, not a refusal): the
   * row stays `running` and the queue records the message and queues it again, so nobody ever reads
   * `failed` for a restore that is about to be retried. Without it every failure is final.
   */
  willRetry?: (error: Error) => boolean;
}

export type RestorePhase = 'starting' | 'downloading' | 'decrypting' | 'verifying' | 'checking' | 'swapping' | 'files' | 'completed';

export async function setPhase(db: Db, restoreId: string, phase: RestorePhase, extra: Partial<RestoreJobRow> = {}): Promise<void> {
  await db.update(restoreJobs).set({ phase, ...extra }).where(eq(restoreJobs.id, restoreId));
}

/** Moved-aside names: `strata_undo_<8 hex>` (20 bytes), checked free. */
export async function freeUndoName(db: Db): Promise<string> {
  for (;;) {
    const name = `strata_undo_${crypto.randomBytes(4).toString('hex')}`;
    if (!(await schemaExists(db, name))) return name;
  }
}
