// Workers: alive when their heartbeat is recent and they have not said they stopped.
import { desc } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { workerHeartbeats } from '../schema.ts';

export const WORKER_ALIVE_MS = 90_000;

export async function workers(db: Db, now = new Date()) {
  const rows = await db.select().from(workerHeartbeats).orderBy(desc(workerHeartbeats.lastSeenAt)).limit(50);
  return rows.map((w) => ({ ...w, alive: !w.stoppedAt && now.getTime() - w.lastSeenAt.getTime() < WORKER_ALIVE_MS }));
}
