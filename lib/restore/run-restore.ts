// runRestore: one restore_jobs row, as docs/design.md "Restore" says — read like the runbook:
// fetch and verify → (another schema name: restore into a scratch database, refuse text references,
// rename, re-dump) → refuse dependents → check prerequisites → swap in one transaction → record it.
// Every replay connects as the replay role (replay-role.ts), which cannot write Strata's tables: the
// swap's transaction writes a marker, and the row is completed from it (swap-marker.ts).
// Claiming and leases belong to lib/jobs, which calls this after claiming the row.
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import pg from 'pg';
import type { Db } from '../db/client.ts';
import { quoteIdent } from '../db/ident.ts';
import { restoreJobs, type RestoreJobRow } from '../db/schema.ts';
import { dependentsOutside, functionsNamingSchema, schemaExists } from './catalog.ts';
import {
  DependentObjectsError,
  RestoreAbortedError,
  RestoreNotFoundError,
  RestoreRequestError,
  SchemaTextReferenceError,
} from './errors.ts';
import { restoreCopy } from './best-copy.ts';
import { checkFreeSpace, fetchVerifiedDump, type FetchProgress } from './fetch.ts';
import { auditRefusal, readTrustedManifest } from './manifest.ts';
import { checkPrerequisites, replayDump } from './replay.ts';
import { replayRole, type ReplayRole } from './replay-role.ts';
import { createScratchDatabase, restoreIntoScratch } from './scratch.ts';
import { completeFromMarker, prepareSwapMarker, swapMarkerSql } from './swap-marker.ts';
import { PgConnection } from '../process/child-env.ts';
import { planStagedRestore, refuseUnstageableBeforeDownload, runStagedReplay, stagingSchemaName } from './staged.ts';
import { redactSecrets } from '../process/redact.ts';
import { describeError } from '../db/errors.ts';
import { runTool } from '../process/tool-process.ts';
import { TOOLS } from '../process/system-tools.ts';
import { freeUndoName, setPhase, type RestoreContext, type RestorePhase } from './context.ts';
import { runUndo } from './undo.ts';
import { runFilesPhase } from './files-phase.ts';
import { FILES_OFF_MESSAGE, filesEnabled } from '../files/source.ts';
import { readFilesIndex } from './files.ts';
import { loadIdentities } from './fetch-chunks.ts';
import type { RestoreManifest } from './manifest.ts';
import type { ObjectStore } from '../storage/types.ts';
import { listedEntryIds } from './toc-check.ts';

export type { RestoreContext, RestorePhase } from './context.ts';

async function load(db: Db, restoreId: string): Promise<RestoreJobRow> {
  const [row] = await db.select().from(restoreJobs).where(eq(restoreJobs.id, restoreId));
  if (!row) throw new RestoreNotFoundError(`restore ${restoreId}`, 'id');
  return row;
}

/**
 * Runs a pending (or re-run, after a crash) restore row to completion. Idempotent: the swap and its
 * marker commit together, so a row whose swap committed is only recorded completed (never replayed
 * again), and a row whose run died before left the target untouched and simply runs again. Records
 * failures on the row and rethrows.
 */
export async function runRestore(ctx: RestoreContext, restoreId: string): Promise<RestoreJobRow> {
  const { db, config } = ctx;
  const row = await load(db, restoreId);
  if (row.status === 'completed' || row.status === 'undone') return row;
  // The file part runs after the swap and before the row is completed: a crash in it re-runs it.
  const filesPending = row.restoreFiles && row.filesStatus !== 'completed' && row.filesStatus !== 'failed';
  if (!filesPending && (await completeFromMarker(db, restoreId, config.STRATA_UNDO_RETENTION_DAYS))) return load(db, restoreId);
  await db
    .update(restoreJobs)
    .set({ status: 'running', phase: 'starting', startedAt: row.startedAt ?? new Date(), completedAt: null, errorMessage: null })
    .where(eq(restoreJobs.id, restoreId));
  try {
    if (!row.filesOnly && !(await swapCommitted(db, restoreId))) {
      if (row.undoes) await runUndo(ctx, row);
      else await restoreFromBackup(ctx, row);
    }
    const files = filesPending ? await runFilesPhase(ctx, row) : null;
    if (row.filesOnly) {
      // Nothing of the database was touched: the row's outcome is the files'.
      await db
        .update(restoreJobs)
        .set({ status: files?.error ? 'failed' : 'completed', phase: 'completed', errorMessage: files?.error ?? null, completedAt: new Date() })
        .where(eq(restoreJobs.id, restoreId));
      return await load(db, restoreId);
    }
    if (!(await completeFromMarker(db, restoreId, config.STRATA_UNDO_RETENTION_DAYS))) {
      throw new Error(`restore ${restoreId}: the swap reported success but left no marker`);
    }
    return await load(db, restoreId);
  } catch (err) {
    // Cancelled (worker shutdown): whatever broke on the way out, the cause is the cancellation.
    const error = ctx.signal?.aborted ? new RestoreAbortedError() : (err as Error);
    if (ctx.willRetry?.(error)) throw error;
    // describeError: a database failure by SQLSTATE, never its SQL or parameters (issue 12 item 4).
    const message = redactSecrets(describeError(error), config).slice(0, 4000);
    // The database part swapped in but the file part could not run: the database stays restored, the files say why.
    if (!row.filesOnly && row.restoreFiles && (await swapCommitted(db, restoreId))) {
      await db.update(restoreJobs).set({ filesStatus: 'failed', filesError: `files not restored: ${message}` }).where(eq(restoreJobs.id, restoreId));
      await completeFromMarker(db, restoreId, config.STRATA_UNDO_RETENTION_DAYS);
      throw error;
    }
    await db
      .update(restoreJobs)
      .set({ status: 'failed', errorMessage: message, completedAt: new Date(), ...(row.restoreFiles && row.filesStatus !== 'failed' ? { filesStatus: 'failed' } : {}) })
      // Not when the swap committed (recording it failed): the next run completes it from the marker.
      .where(
        sql`${restoreJobs.id} = ${restoreId} and ${restoreJobs.status} = 'running'
          and not exists (select from restore_swaps s where s.restore_id = ${restoreId})`,
      );
    throw error;
  }
}

async function checkFilesBeforeRestore(ctx: RestoreContext, store: ObjectStore, manifest: RestoreManifest): Promise<void> {
  if (!filesEnabled(ctx.config)) throw new RestoreRequestError(FILES_OFF_MESSAGE, 'restore_files');
  const identityFile = ctx.config.BACKUP_DECRYPTION_IDENTITY_FILE;
  if (!identityFile) throw new RestoreRequestError('BACKUP_DECRYPTION_IDENTITY_FILE is required to restore files');
  await readFilesIndex(store, manifest, loadIdentities(identityFile));
}

async function swapCommitted(db: Db, restoreId: string): Promise<boolean> {
  const res = await db.execute(sql`select 1 from restore_swaps where restore_id = ${restoreId}`);
  return (res.rowCount ?? 0) > 0;
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
  const { db, config, signal } = ctx;
  if (!row.backupId) throw new RestoreRequestError('the restore names no backup', 'backup_id');
  // The best copy of the backup point (or exactly the named one), recorded as copy_backup_id (lib/restore/best-copy.ts).
  const backup = await restoreCopy(db, row);
  if (backup.status !== 'completed' || !backup.backupLocation) {
    throw new RestoreRequestError(`backup ${backup.id} is ${backup.status}, not completed`, 'backup_id');
  }
  // Before a byte is downloaded: who replays (a superuser is refused), and that it may write its marker.
  const role = await replayRole(config);
  const marker = await prepareSwapMarker(db, role);
  // Signed by a known key and describing exactly this catalog row, or refused and audited (issue 13).
  const { manifest, store } = await readTrustedManifest(ctx, backup, { allowUnsigned: row.allowUnsigned });
  // Files too: the bucket must be configured and the index intact before the database is touched.
  if (row.restoreFiles) await checkFilesBeforeRestore(ctx, store, manifest);
  // Too large for one transaction and not stageable (lib/restore/staged.ts): refused before the download.
  if (row.mode === 'in_place' && (await schemaExists(db, row.targetSchema))) await refuseUnstageableBeforeDownload(config, row.targetSchema);
  await setPhase(db, row.id, 'downloading', { totalBytes: manifest.backup.backup_size_bytes, progressBytes: 0 });
  // fetchVerifiedDump also refuses a dump with entries outside the tenant's schema, before any replay.
  const fetched = await fetchVerifiedDump({
    store,
    location: backup.backupLocation,
    manifest,
    config,
    signal,
    owner: { kind: 'restore', jobKey: row.id },
    onProgress: progressWriter(db, row.id),
  }).catch((err: unknown) => auditRefusal(db, backup, err));
  try {
    const source = manifest.tenant.schema_name;
    const target = row.targetSchema;
    const liveExists = await schemaExists(db, target);
    if (row.mode === 'clone' && liveExists) {
      throw new RestoreRequestError(`schema ${JSON.stringify(target)} already exists: a clone needs a new name`, 'target_schema');
    }
    const moveAside = row.mode === 'in_place' && liveExists;
    // Too large for one transaction on this server: staged (several transactions, one short swap).
    // Planned (the TOC read and, when staged, a renamed copy of the archive written to the work dir)
    // while the catalog is asked for objects outside the schema that depend on it; those refuse first.
    const [dependents, planned] = await Promise.allSettled([
      moveAside ? dependentsOutside(db, target) : Promise.resolve([]),
      planStagedRestore(config, fetched.dumpPath, source, stagingSchemaName(row.id), fetched.workDir, {
        restored: listedEntryIds(fetched.toc),
        beforeWrite: () => checkFreeSpace(config.STRATA_TMP_DIR, manifest.backup.dump_size_bytes + config.STRATA_TMP_MIN_FREE_MB * 1024 * 1024),
      }),
    ]);
    if (dependents.status === 'rejected') throw dependents.reason;
    if (dependents.value.length > 0) throw new DependentObjectsError(target, dependents.value);
    if (planned.status === 'rejected') throw planned.reason;
    const staged = planned.value;
    if (staged) {
      await setPhase(db, row.id, 'swapping');
      const stagedAside = moveAside ? await freeUndoName(db) : null;
      await runStagedReplay({
        config,
        plan: staged,
        target,
        moveAside: stagedAside ? { live: target, aside: stagedAside } : undefined,
        finish: swapMarkerSql(marker, row.id, stagedAside),
        workDir: fetched.workDir,
        signal,
      });
      return;
    }
    let dumpPath = fetched.dumpPath;
    if (source !== target) {
      await setPhase(db, row.id, 'verifying');
      // The renamed copy is about as large as the dump (the stored object is gone by now).
      await checkFreeSpace(config.STRATA_TMP_DIR, manifest.backup.dump_size_bytes + config.STRATA_TMP_MIN_FREE_MB * 1024 * 1024);
      dumpPath = await renamedDump(ctx, row.id, role, fetched.dumpPath, source, target, path.join(fetched.workDir, 'renamed.pgdump'));
    }
    await setPhase(db, row.id, 'checking');
    const aside = moveAside ? await freeUndoName(db) : null;
    const moveAsideSpec = aside ? { live: target, aside } : undefined;
    await checkPrerequisites({ config, role, dumpPath, moveAside: moveAsideSpec, signal });
    await setPhase(db, row.id, 'swapping');
    await replayDump({ config, role, dumpPath, moveAside: moveAsideSpec, finish: swapMarkerSql(marker, row.id, aside), signal });
  } finally {
    await fetched.cleanup();
  }
}

/**
 * The dump of `source` as a dump of `target`: restored exactly into a scratch database, refused when
 * functions name the source schema in text, renamed there (ALTER SCHEMA follows every parsed
 * reference: views, defaults, foreign keys, SQL-standard bodies) and dumped again.
 */
async function renamedDump(ctx: RestoreContext, restoreId: string, role: ReplayRole, dumpPath: string, source: string, target: string, outPath: string): Promise<string> {
  const { config, signal } = ctx;
  const scratch = await createScratchDatabase(config, 'clone', restoreId, role);
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
      connection: PgConnection.fromUrl(scratch.url, { appName: 'strata-restore', dir: path.dirname(outPath) }),
      redact: (t) => redactSecrets(t, config),
      signal,
    });
    return outPath;
  } finally {
    await scratch.drop().catch(() => {});
  }
}
