// runRestore: one restore_jobs row, as CONTRACTS.md "Restore" says — read like the runbook:
// fetch and verify → (another schema name: restore into a scratch database, refuse text references,
// rename, re-dump) → refuse dependents → check prerequisites → swap in one transaction.
// Claiming and leases belong to lib/jobs, which calls this after claiming the row.
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import pg from 'pg';
import type { Db } from '../db/client.ts';
import { quoteIdent, quoteLiteral } from '../db/ident.ts';
import { restoreJobs, type RestoreJobRow } from '../db/schema.ts';
import { dependentsOutside, functionsNamingSchema, schemaExists } from './catalog.ts';
import {
  DependentObjectsError,
  InvalidDumpError,
  RestoreAbortedError,
  RestoreNotFoundError,
  RestoreRequestError,
  SchemaTextReferenceError,
} from './errors.ts';
import { restoreCopy } from './best-copy.ts';
import { checkFreeSpace, fetchVerifiedDump, type FetchProgress } from './fetch.ts';
import { readManifest } from './manifest.ts';
import { checkPrerequisites, replayDump } from './replay.ts';
import { createScratchDatabase, restoreIntoScratch } from './scratch.ts';
import { pgProgramEnv } from '../backup/dump.ts';
import { redactSecrets } from '../backup/redact.ts';
import { runTool } from '../backup/tool-process.ts';
import { TOOLS } from '../services/system-tools.ts';
import { freeUndoName, setPhase, type RestoreContext, type RestorePhase } from './context.ts';
import { runUndo } from './undo.ts';

export type { RestoreContext, RestorePhase } from './context.ts';

async function load(db: Db, restoreId: string): Promise<RestoreJobRow> {
  const [row] = await db.select().from(restoreJobs).where(eq(restoreJobs.id, restoreId));
  if (!row) throw new RestoreNotFoundError(`restore ${restoreId}`, 'id');
  return row;
}

/** SQL that marks the restore completed; runs inside the swap's transaction, so both commit or neither. */
export function completionSql(restoreId: string, movedAside: string | null, undoRetentionDays: number): string {
  const aside = movedAside === null ? 'NULL' : quoteLiteral(movedAside);
  const expires = movedAside === null ? 'NULL' : `now() + make_interval(days => ${Math.trunc(undoRetentionDays)})`;
  return `UPDATE restore_jobs SET status = 'completed', phase = 'completed', moved_aside_schema = ${aside},
    undo_expires_at = ${expires}, completed_at = now(), error_message = NULL, progress_bytes = coalesce(total_bytes, progress_bytes)
    WHERE id = ${quoteLiteral(restoreId)};`;
}

/**
 * Runs a pending (or re-run, after a crash) restore row to completion. Idempotent: the swap and the
 * row's completion commit together, so a completed row is returned as it is, and a row whose run died
 * half-way left the target untouched and simply runs again. Records failures on the row and rethrows.
 */
export async function runRestore(ctx: RestoreContext, restoreId: string): Promise<RestoreJobRow> {
  const { db, config } = ctx;
  const row = await load(db, restoreId);
  if (row.status === 'completed' || row.status === 'undone') return row;
  await db
    .update(restoreJobs)
    .set({ status: 'running', phase: 'starting', startedAt: row.startedAt ?? new Date(), completedAt: null, errorMessage: null })
    .where(eq(restoreJobs.id, restoreId));
  try {
    if (row.undoes) await runUndo(ctx, row);
    else await restoreFromBackup(ctx, row);
    return await load(db, restoreId);
  } catch (err) {
    // Cancelled (worker shutdown): whatever broke on the way out, the cause is the cancellation.
    const error = ctx.signal?.aborted ? new RestoreAbortedError() : (err as Error);
    const message = redactSecrets(error.message, config).slice(0, 4000);
    await db
      .update(restoreJobs)
      .set({ status: 'failed', errorMessage: message, completedAt: new Date() })
      .where(sql`${restoreJobs.id} = ${restoreId} and ${restoreJobs.status} = 'running'`);
    throw error;
  }
}

/** Progress writes, at most one a second and one at a time. */
function progressWriter(db: Db, restoreId: string) {
  let last = 0;
  let busy = false;
  return (p: FetchProgress) => {
    const now = Date.now();
    if (busy || (now - last < 1000 && p.bytes < p.totalBytes)) return;
    busy = true;
    last = now;
    const phase: RestorePhase = p.phase === 'checking' ? 'verifying' : p.phase;
    void setPhase(db, restoreId, phase, p.phase === 'downloading' ? { progressBytes: p.bytes } : {})
      .catch(() => {})
      .finally(() => {
        busy = false;
      });
  };
}

async function restoreFromBackup(ctx: RestoreContext, row: RestoreJobRow): Promise<void> {
  const { db, config, stores, signal } = ctx;
  if (!row.backupId) throw new RestoreRequestError('the restore names no backup', 'backup_id');
  // The best copy of the backup point (or exactly the named one), recorded as copy_backup_id (lib/restore/best-copy.ts).
  const backup = await restoreCopy(db, row);
  if (backup.status !== 'completed' || !backup.backupLocation) {
    throw new RestoreRequestError(`backup ${backup.id} is ${backup.status}, not completed`, 'backup_id');
  }
  const store = stores.forLocation(backup.backupLocation);
  const manifest = await readManifest(store, backup.backupLocation);
  if (manifest.backup.id !== backup.id || (backup.sha256Stored && backup.sha256Stored !== manifest.backup.sha256_stored)) {
    throw new InvalidDumpError(`the manifest beside ${backup.backupLocation} does not describe backup ${backup.id}`);
  }
  await setPhase(db, row.id, 'downloading', { totalBytes: manifest.backup.backup_size_bytes, progressBytes: 0 });
  const fetched = await fetchVerifiedDump({
    store,
    location: backup.backupLocation,
    manifest,
    config,
    signal,
    onProgress: progressWriter(db, row.id),
  });
  try {
    const source = manifest.tenant.schema_name;
    const target = row.targetSchema;
    const liveExists = await schemaExists(db, target);
    if (row.mode === 'clone' && liveExists) {
      throw new RestoreRequestError(`schema ${JSON.stringify(target)} already exists: a clone needs a new name`, 'target_schema');
    }
    const moveAside = row.mode === 'in_place' && liveExists;
    if (moveAside) {
      const dependents = await dependentsOutside(db, target);
      if (dependents.length > 0) throw new DependentObjectsError(target, dependents);
    }
    let dumpPath = fetched.dumpPath;
    if (source !== target) {
      await setPhase(db, row.id, 'verifying');
      // The renamed copy is about as large as the dump (the stored object is gone by now).
      await checkFreeSpace(config.STRATA_TMP_DIR, manifest.backup.dump_size_bytes + config.STRATA_TMP_MIN_FREE_MB * 1024 * 1024);
      dumpPath = await renamedDump(ctx, fetched.dumpPath, source, target, path.join(fetched.workDir, 'renamed.pgdump'));
    }
    await setPhase(db, row.id, 'checking');
    const aside = moveAside ? await freeUndoName(db) : null;
    const moveAsideSpec = aside ? { live: target, aside } : undefined;
    await checkPrerequisites({ config, dumpPath, moveAside: moveAsideSpec, signal });
    await setPhase(db, row.id, 'swapping');
    await replayDump({
      config,
      dumpPath,
      moveAside: moveAsideSpec,
      finish: completionSql(row.id, aside, config.STRATA_UNDO_RETENTION_DAYS),
      signal,
    });
  } finally {
    await fetched.cleanup();
  }
}

/**
 * The dump of `source` as a dump of `target`: restored exactly into a scratch database, refused when
 * functions name the source schema in text, renamed there (ALTER SCHEMA follows every parsed
 * reference: views, defaults, foreign keys, SQL-standard bodies) and dumped again.
 */
async function renamedDump(ctx: RestoreContext, dumpPath: string, source: string, target: string, outPath: string): Promise<string> {
  const { config, signal } = ctx;
  const scratch = await createScratchDatabase(config, 'clone');
  try {
    await restoreIntoScratch(config, scratch, dumpPath, source, signal, async () => {
      const naming = await functionsNamingSchema(scratch.url, source);
      if (naming.length > 0) throw new SchemaTextReferenceError(source, naming);
    });
    const client = new pg.Client({ connectionString: scratch.url, application_name: 'strata-restore' });
    // A dropped connection fails the query in flight; unhandled, the 'error' event would kill the process.
    client.on('error', () => {});
    await client.connect();
    try {
      await client.query(`ALTER SCHEMA ${quoteIdent(source)} RENAME TO ${quoteIdent(target)}`);
    } finally {
      await client.end();
    }
    await runTool(TOOLS.pgDump, ['-Fc', '-Z0', '--no-password', '--strict-names', '-n', quoteIdent(target), '-f', outPath], {
      env: pgProgramEnv(config.DATABASE_URL, 'strata-restore', scratch.name),
      redact: (t) => redactSecrets(t, config),
      signal,
    });
    return outPath;
  } finally {
    await scratch.drop().catch(() => {});
  }
}
