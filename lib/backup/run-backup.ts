// The backup runbook for one dump group (one dump, stored once per due storage tier):
//   read the group → resolve the tenant from the catalog → mark running → clear an earlier attempt
//   → dump | zstd | age | upload to every tier → confirm each upload → write signed manifests → mark completed.
// An incremental group (backup_type 'incremental') chunks the dump instead and uploads only the chunks
// each tier lacks (chunked.ts); its manifests carry the chunk lists.
// Nothing is "completed" before it is proven (STYLE.md #6): manifest.json is written only after the
// dump object is confirmed, and the rows turn completed only after every manifest is stored.
// Claiming and leases are the job queue's (lib/jobs); it calls runBackupGroup once it holds the group.
import type { Db } from '../db/client.ts';
import type { Config } from '../env.ts';
import type { Stores } from '../storage/registry.ts';
import { confirmUploads, removeBackupObjects, removeEarlierAttempts, uploadTargets, writeManifests } from './objects.ts';
import { loadGroup, markCompleted, markFailed, markRunning, recordProgress, resolveTenant, withExpiry, GroupTakenOverError, type StoredCopy } from './job-rows.ts';
import { chunkNamingSecret, streamChunkedDump } from './chunked.ts';
import { dropChunkReferences } from '../chunks/store.ts';
import type { ChunkEntry } from '../chunks/list.ts';
import { pgDumpVersion, serverVersion } from './dump.ts';
import { streamEncryptedDump } from './pipeline.ts';
import { redactSecrets } from '../process/redact.ts';
import { describeError } from '../db/errors.ts';
import { signingKeyOf } from './signing.ts';
import { wholeSecond } from './serialize.ts';
import { backupTenantFiles, type FilesCopy } from '../files/backup.ts';
import { filesSource } from '../files/source.ts';
import { recordFilesProgress } from './job-rows.ts';

export interface BackupContext {
  db: Db;
  config: Config;
  stores: Stores;
  /** Aborting stops the dump and the uploads; the group is marked failed ("backup cancelled: …"). */
  signal?: AbortSignal;
  /**
   * The job queue will run the group again after this failure (attempts left): its rows stay `running`
   * and the queue records the message and queues them again, so nobody ever reads `failed` for a
   * backup that is about to be retried. Without it every failure is final.
   */
  willRetry?: (error: unknown) => boolean;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

export class BackupFailedError extends Error {
  constructor(
    readonly dumpGroup: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BackupFailedError';
  }
}

/**
 * Runs every pending/running backup row of `dumpGroup`. Resolves when they are all completed;
 * on failure removes what was stored, marks the rows failed (error_message redacted) unless
 * `willRetry` says the queue runs them again, and rejects with BackupFailedError. A group with no pending/running row is a no-op.
 */
export async function runBackupGroup(ctx: BackupContext, dumpGroup: string): Promise<void> {
  const { db, config, stores, signal } = ctx;
  const log = ctx.log ?? (() => {});

  // 1. The group: one row per storage tier, all of one tenant and one origin.
  const rows = await loadGroup(db, dumpGroup);
  if (rows.length === 0) return;
  let targets: ReturnType<typeof uploadTargets> | undefined;
  try {
    // 2. The key that will sign the manifests: without it the backup fails now, before any dump (never unsigned).
    const signingKey = signingKeyOf(config);

    // One dump group is one dump: all full or all incremental.
    const types = new Set(rows.map((r) => r.backupType));
    if (types.size > 1) throw new Error(`backup group ${dumpGroup} mixes backup types (${[...types].join(', ')})`);
    const incremental = rows[0]!.backupType === 'incremental';

    // The tenant's schema, name and plan come from the catalog (tenants, tenant_subscriptions).
    const tenant = await resolveTenant(db, rows[0]!.tenantId);

    // 3. Running, with the keys that follow from each backup's uuid and started_at.
    const startedAt = wholeSecond();
    targets = uploadTargets(stores, rows, startedAt);
    await markRunning(db, targets, tenant.tierId, startedAt);
    log('backup started', { dump_group: dumpGroup, tenant_id: tenant.id, storage_tiers: rows.map((r) => r.storageTier) });

    // 4. A retried group starts clean: an earlier attempt's objects never sit beside the new copy.
    await removeEarlierAttempts(targets);

    // Files need the files bucket: without it the backup fails now, before any dump.
    const files = rows[0]!.includeFiles ? await filesSource(db, config, tenant.id) : null;

    // 5. pg_dump | zstd | age, streamed once into every storage tier; or, incremental, only the
    //    chunks each tier does not hold yet (lib/backup/chunked.ts).
    const progress = recordProgress(db, dumpGroup);
    let dump: { dumpBytes: number; sha256Dump: string };
    let copies: StoredCopy[];
    let chunkLists: ChunkEntry[][] | undefined;
    // A retried copy references its chunks (dump and files) afresh.
    if (incremental || files) for (const t of targets) await dropChunkReferences(db, t.row.id);
    if (incremental) {
      const result = await streamChunkedDump({
        db,
        config,
        dumpGroup,
        tenantId: tenant.id,
        schemaName: tenant.schemaName,
        recipients: config.BACKUP_ENCRYPTION_RECIPIENTS,
        namingSecret: chunkNamingSecret(signingKey),
        targets: targets.map((t) => ({ backupId: t.row.id, store: t.store })),
        signal,
        onProgress: progress.report,
      });
      await progress.settle();
      dump = result;
      copies = result.copies;
      chunkLists = result.copies.map((c) => c.chunks);
    } else {
      const result = await streamEncryptedDump({
        config,
        dumpGroup,
        schemaName: tenant.schemaName,
        recipients: config.BACKUP_ENCRYPTION_RECIPIENTS,
        targets: targets.map((t) => ({ store: t.store, key: t.dumpKey })),
        signal,
        onProgress: progress.report,
      });
      await progress.settle();
      // 6. Proof: every stored object has the size that was sent.
      await confirmUploads(targets, result.storedBytes);
      dump = result;
      copies = targets.map(() => ({ storedBytes: result.storedBytes, sha256Stored: result.sha256Stored, addedBytes: result.storedBytes }));
    }

    // 6b. The tenant's files, listed after the dump's snapshot was taken (lib/files/backup.ts).
    let filesCopies: FilesCopy[] | undefined;
    if (files) {
      const filesProgress = recordFilesProgress(db, dumpGroup);
      const bucket = files.open();
      try {
        const result = await backupTenantFiles({
          db,
          bucket,
          tenantId: tenant.id,
          prefix: files.prefix,
          targets: targets.map((t) => ({ backupId: t.row.id, store: t.store, prefix: t.prefix })),
          namingSecret: chunkNamingSecret(signingKey),
          recipients: config.BACKUP_ENCRYPTION_RECIPIENTS,
          signal,
          onProgress: filesProgress.report,
        });
        await filesProgress.settle();
        filesCopies = result.copies;
        log('backup files stored', { dump_group: dumpGroup, tenant_id: tenant.id, files: result.copies[0]?.summary.count, downloaded_files: result.downloadedFiles, downloaded_bytes: result.downloadedBytes });
      } finally {
        bucket.destroy();
      }
    }

    // 7. Manifests beside each confirmed dump, then the catalog: completed, with expires_at by policy.
    const completed = (await withExpiry(db, config, targets, tenant, dump, copies, wholeSecond())).map((row, i) => {
      const f = filesCopies?.[i];
      return f
        ? { ...row, filesPrefix: f.summary.prefix, filesCount: f.summary.count, filesBytes: f.summary.bytes, filesStoredBytes: f.summary.stored_bytes, filesAddedBytes: f.addedBytes }
        : row;
    });
    await writeManifests(targets, completed, tenant, {
      recipients: config.BACKUP_ENCRYPTION_RECIPIENTS,
      pgDumpVersion: await pgDumpVersion(),
      serverVersion: await serverVersion(config),
    }, signingKey, chunkLists, filesCopies?.map((f) => f.summary));
    await markCompleted(db, completed, tenant);
    log('backup completed', { dump_group: dumpGroup, tenant_id: tenant.id, backup_type: rows[0]!.backupType, stored_bytes: copies[0]!.storedBytes, added_bytes: copies[0]!.addedBytes, dump_bytes: dump.dumpBytes });
  } catch (err) {
    // Another worker holds the group now: its objects share our keys, so leave them and its rows alone.
    if (err instanceof GroupTakenOverError) throw err;
    const message = redactSecrets(describeError(err), config);
    if (targets) await removeBackupObjects(targets, log);
    const retried = ctx.willRetry?.(err) === true;
    if (!retried) await markFailed(db, rows, message);
    log(retried ? 'backup attempt failed; the queue retries it' : 'backup failed', { dump_group: dumpGroup, tenant_id: rows[0]!.tenantId, error: message });
    throw new BackupFailedError(dumpGroup, message, { cause: err });
  }
}
