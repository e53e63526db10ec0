// What a killed job leaves behind: a scratch database (a verification's, or a clone's rename) and a
// private temp dir in STRATA_TMP_DIR (a backup's FIFO, a restore's or verification's download).
// Each carries its job's key in its name (lib/domain.ts owner marks). The sweep removes one only when
// that job is in this catalog and is over or its lease ran out — a job still pending or running
// under a live lease (or run in-process, without one) keeps what it made, and a name whose job is not
// in this catalog belongs to another installation sharing the cluster or the temp dir. Never by age,
// never by guessing from a name alone.
//
// Scratch databases live on the database server: any worker may sweep them. Temp dirs live on one
// host: each host's workers sweep their own STRATA_TMP_DIR (the periodic task is claimed per host).
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { Db } from '../lib/db/client.ts';
import { jobTempDirOwner, scratchDatabaseOwner, type LeftoverOwner } from '../lib/domain.ts';
import type { Config } from '../lib/env.ts';
import { QUEUES } from '../lib/jobs/queues.ts';
import { replayUrl } from '../lib/restore/replay-role.ts';
import { dropScratchDatabase } from '../lib/restore/scratch.ts';
import { redactSecrets } from '../lib/process/redact.ts';

const reason = (err: unknown, config: Config) => redactSecrets(err instanceof Error ? err.message : String(err), config);

export interface Leftover {
  type: 'database' | 'dir';
  name: string;
  owner: LeftoverOwner;
  /** Its job is still pending or running, not under an expired lease (or run in-process, without one). */
  live: boolean;
}

/**
 * The scratch databases on the server and the temp dirs in STRATA_TMP_DIR that belong to a job of
 * this catalog. One whose owner mark names no job here is another installation's (a shared cluster
 * or temp dir) and is not listed: never swept.
 */
export async function leftovers(db: Db, config: Pick<Config, 'STRATA_TMP_DIR'>): Promise<Leftover[]> {
  const found: Omit<Leftover, 'live'>[] = [];
  const names = (await db.execute<{ datname: string }>(sql`select datname from pg_database where datname like 'strata\_%' order by 1`)).rows;
  for (const { datname } of names) {
    const owner = scratchDatabaseOwner(datname);
    if (owner) found.push({ type: 'database', name: datname, owner });
  }
  let entries: fs.Dirent[] = [];
  try {
    entries = await fs.promises.readdir(config.STRATA_TMP_DIR, { withFileTypes: true });
  } catch {
    // no temp dir yet: nothing there
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const owner = entry.isDirectory() ? jobTempDirOwner(entry.name) : null;
    if (owner) found.push({ type: 'dir', name: entry.name, owner });
  }
  const out: Leftover[] = [];
  for (const f of found) {
    const q = QUEUES[f.owner.kind];
    const res = await db.execute<{ live: boolean }>(sql`
      select status in ${q.live} and (lease_expires_at is null or lease_expires_at > now()) as live
      from ${q.table} where ${q.key} = ${f.owner.jobKey}::uuid
      order by live desc limit 1`);
    if (res.rows.length > 0) out.push({ ...f, live: res.rows[0]!.live });
  }
  return out;
}

export interface SweepResult {
  databases: string[];
  dirs: string[];
  /** Leftovers whose removal failed (kept for the next sweep), with the reason. */
  failed: { name: string; error: string }[];
}

/** Removes every leftover of this catalog whose job is over or lost its lease. */
export async function sweepLeftovers(deps: { db: Db; config: Config }): Promise<SweepResult> {
  const { db, config } = deps;
  const result: SweepResult = { databases: [], dirs: [], failed: [] };
  for (const l of await leftovers(db, config)) {
    if (l.live) continue;
    try {
      if (l.type === 'database') {
        await dropScratchDatabase(replayUrl(config), l.name);
        result.databases.push(l.name);
      } else {
        await fs.promises.rm(path.join(config.STRATA_TMP_DIR, l.name), { recursive: true, force: true });
        result.dirs.push(l.name);
      }
    } catch (err) {
      result.failed.push({ name: l.name, error: reason(err, config) });
    }
  }
  return result;
}
