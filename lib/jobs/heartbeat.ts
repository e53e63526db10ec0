// The worker's own row in worker_heartbeats: what `strata doctor` and the dashboard show as alive.
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';

export interface WorkerIdentity {
  id: string;
  host: string;
  version: string;
}

export async function beat(db: Db, worker: WorkerIdentity, runningJobs: number): Promise<void> {
  await db.execute(sql`
    insert into worker_heartbeats (id, host, version, running_jobs)
    values (${worker.id}, ${worker.host}, ${worker.version}, ${runningJobs})
    on conflict (id) do update set last_seen_at = now(), running_jobs = excluded.running_jobs, stopped_at = null`);
}

export async function markStopped(db: Db, workerId: string): Promise<void> {
  await db.execute(sql`update worker_heartbeats set stopped_at = now(), last_seen_at = now(), running_jobs = 0 where id = ${workerId}`);
}
