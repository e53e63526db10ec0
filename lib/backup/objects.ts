// The objects of the backups in one dump group: where each goes, clearing an earlier attempt,
// confirming uploads, writing manifests, and removing everything after a failure.
import type { BackupJobRow } from '../db/schema.ts';
import type { StorageTier } from '../domain.ts';
import type { Stores } from '../storage/registry.ts';
import type { ObjectStore } from '../storage/types.ts';
import { parseLocation } from '../storage/types.ts';
import type { KeyObject } from 'node:crypto';
import { backupKey, buildManifest, DUMP_OBJECT, manifestBytes, MANIFEST_OBJECT, prefixOfObjectKey, SIGNATURE_OBJECT } from './manifest.ts';
import { signManifest } from './signing.ts';
import { backupJson } from './serialize.ts';
import type { ManifestFiles } from '../files/index-format.ts';
import type { ChunkEntry } from '../chunks/list.ts';

export interface BackupTarget {
  row: BackupJobRow;
  store: ObjectStore;
  /** `backups/<tenant>/<YYYY>/<MM>/<uuid>/` of this attempt. */
  prefix: string;
  dumpKey: string;
  manifestKey: string;
  /** backup_location: the dump object, or manifest.json for an incremental copy. */
  location: string;
  /** started_at of this attempt (whole seconds). */
  startedAt: Date;
  /** Prefixes an earlier attempt may have written to (another started_at month). */
  earlierPrefixes: string[];
}

export function uploadTargets(stores: Stores, rows: BackupJobRow[], startedAt: Date): BackupTarget[] {
  return rows.map((row) => {
    const store = stores.forTier(row.storageTier as StorageTier);
    const prefix = backupKey(row.tenantId, startedAt, row.id);
    const earlier = new Set<string>();
    if (row.startedAt) earlier.add(backupKey(row.tenantId, row.startedAt, row.id));
    if (row.backupLocation) earlier.add(prefixOfObjectKey(parseLocation(row.backupLocation).key));
    earlier.delete(prefix);
    return {
      row,
      store,
      prefix,
      dumpKey: prefix + DUMP_OBJECT,
      manifestKey: prefix + MANIFEST_OBJECT,
      // An incremental copy has no dump object: its manifest (with the chunk list) is what it is.
      location: store.location(prefix + (row.backupType === 'incremental' ? MANIFEST_OBJECT : DUMP_OBJECT)),
      startedAt,
      earlierPrefixes: [...earlier],
    };
  });
}

async function deleteUnder(store: ObjectStore, prefix: string): Promise<void> {
  // The dump key is deleted even when no listing shows it: a worker killed mid-upload leaves an
  // unfinished B2 large file under it, which only a delete of every version removes.
  const keys = new Set([prefix + DUMP_OBJECT, prefix + MANIFEST_OBJECT, prefix + SIGNATURE_OBJECT]);
  for await (const object of store.list(prefix)) keys.add(object.key);
  for (const key of keys) await store.delete(key);
}

/** Deletes whatever an earlier attempt left under the backup's prefixes (keys are uuid-based, so it is ours). */
export async function removeEarlierAttempts(targets: BackupTarget[]): Promise<void> {
  for (const t of targets) {
    for (const prefix of [t.prefix, ...t.earlierPrefixes]) await deleteUnder(t.store, prefix);
  }
}

/** Every dump object is there with exactly the bytes that were sent. */
export async function confirmUploads(targets: BackupTarget[], storedBytes: number): Promise<void> {
  for (const t of targets) {
    const info = await t.store.head(t.dumpKey);
    if (!info) throw new Error(`${t.location} is missing right after its upload`);
    if (info.size !== storedBytes) throw new Error(`${t.location} holds ${info.size} bytes, ${storedBytes} were sent`);
  }
}

export interface ManifestFacts {
  recipients: string[];
  pgDumpVersion: string;
  serverVersion: string;
}

/**
 * manifest.json beside each dump: the completed backup as it will be in the catalog, signed. The
 * signature goes first: manifest.json marks the backup complete, so no complete backup is unsigned.
 */
export async function writeManifests(
  targets: BackupTarget[],
  completed: BackupJobRow[],
  tenant: { id: string; name: string; schemaName: string },
  facts: ManifestFacts,
  signingKey: KeyObject,
  /** Per target, the chunk list of an incremental copy (undefined for a full backup). */
  chunkLists?: ChunkEntry[][],
  /** Per target, its files (undefined without files). */
  files?: ManifestFiles[],
): Promise<void> {
  for (const [i, t] of targets.entries()) {
    const bytes = manifestBytes(buildManifest({ backup: backupJson(completed[i]!), tenant, ...facts, chunks: chunkLists?.[i], files: files?.[i] }));
    await t.store.put(t.prefix + SIGNATURE_OBJECT, signManifest(bytes, signingKey), { contentType: 'application/octet-stream' });
    await t.store.put(t.manifestKey, bytes, { contentType: 'application/json' });
  }
}

/** After a failure: nothing of this attempt stays visible. Best effort — a failed delete is logged, prune retries later. */
export async function removeBackupObjects(
  targets: BackupTarget[],
  log: (message: string, fields?: Record<string, unknown>) => void,
): Promise<void> {
  for (const t of targets) {
    try {
      await t.store.delete(t.manifestKey);
      await t.store.delete(t.prefix + SIGNATURE_OBJECT);
      await t.store.delete(t.dumpKey);
      await deleteUnder(t.store, t.prefix);
    } catch (err) {
      log('could not remove the objects of a failed backup', { location: t.location, error: (err as Error).message });
    }
  }
}
