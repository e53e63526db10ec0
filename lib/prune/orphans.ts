// Objects in the stores that no live catalog row accounts for, grouped per backup prefix.
import { LEGAL_HOLD_OBJECT, MANIFEST_OBJECT, parseObjectKey } from '../backup/manifest.ts';
import { BACKUPS_ROOT } from '../domain.ts';
import type { OrphanObjects } from '../retention/decisions.ts';
import type { Stores } from '../storage/registry.ts';
import type { ObjectStore } from '../storage/types.ts';

export interface StoredBackup extends OrphanObjects {
  store: ObjectStore;
  prefix: string;
}

/** Every backup prefix found in every configured bucket (a bucket shared by two tiers is listed once). */
export async function listStoredBackups(stores: Stores): Promise<StoredBackup[]> {
  const seen = new Set<string>();
  const found = new Map<string, StoredBackup>();
  for (const store of stores.all()) {
    const bucket = store.location('');
    if (seen.has(bucket)) continue;
    seen.add(bucket);
    for await (const obj of store.list(BACKUPS_ROOT)) {
      const parsed = parseObjectKey(obj.key);
      if (!parsed) continue;
      const prefix = obj.key.slice(0, obj.key.lastIndexOf('/') + 1);
      const id = `${bucket}${prefix}`;
      let entry = found.get(id);
      if (!entry) {
        entry = { store, prefix, backupId: parsed.uuid, tenantId: parsed.tenantId, lastModified: new Date(0), hasManifest: false, legalHold: false };
        found.set(id, entry);
      }
      if (obj.lastModified && obj.lastModified > entry.lastModified) entry.lastModified = obj.lastModified;
      if (parsed.object === MANIFEST_OBJECT) entry.hasManifest = true;
      if (parsed.object === LEGAL_HOLD_OBJECT) entry.legalHold = true;
    }
  }
  return [...found.values()];
}
