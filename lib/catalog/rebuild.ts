// `strata catalog rebuild`: the catalog recreated from the stores alone, after the database was lost.
// Every `backups/…/<uuid>/manifest.json` in every configured store becomes a completed backup row
// again (same uuid, fields from the manifest, legal hold from the `legal-hold` marker), and every
// tenant named by a manifest gets a tenant_state row flagged rebuilt_from_manifest. The platform's
// own tables (tenants, tenant_subscriptions) are never written: they belong to the SaaS app.
// Idempotent: a second run finds every row already there and adds nothing.
import { createHash } from 'node:crypto';
import { backupJobs, tenantState } from '../db/schema.ts';
import type { Db } from '../db/client.ts';
import type { Stores } from '../storage/registry.ts';
import type { ObjectStore } from '../storage/types.ts';
import { BACKUPS_ROOT, DUMP_OBJECT, LEGAL_HOLD_OBJECT, MANIFEST_OBJECT, parseManifest, parseObjectKey, type ManifestV1 } from '../backup/manifest.ts';

export interface RebuildResult {
  added: number;
  already: number;
  tenants_added: number;
}

export interface RebuildOptions {
  /** Manifests that could not be used (unreadable, no dump beside them, id not matching the key). */
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

interface FoundBackup {
  store: ObjectStore;
  prefix: string;
  hasDump: boolean;
  hasManifest: boolean;
  hasHold: boolean;
}

/** Every backup prefix of every configured store (s3_standard and s3_ia share a bucket: listed once). */
async function listBackups(stores: Stores): Promise<FoundBackup[]> {
  const found = new Map<string, FoundBackup>();
  const listed = new Set<string>();
  for (const store of stores.all()) {
    const root = store.location(BACKUPS_ROOT);
    if (listed.has(root)) continue;
    listed.add(root);
    for await (const object of store.list(BACKUPS_ROOT)) {
      const parsed = parseObjectKey(object.key);
      if (!parsed) continue;
      const prefix = object.key.slice(0, object.key.length - parsed.object.length);
      const id = store.location(prefix);
      const entry = found.get(id) ?? { store, prefix, hasDump: false, hasManifest: false, hasHold: false };
      if (parsed.object === DUMP_OBJECT) entry.hasDump = true;
      if (parsed.object === MANIFEST_OBJECT) entry.hasManifest = true;
      if (parsed.object === LEGAL_HOLD_OBJECT) entry.hasHold = true;
      found.set(id, entry);
    }
  }
  return [...found.values()];
}

async function readManifest(store: ObjectStore, key: string): Promise<ManifestV1> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(key)) chunks.push(Buffer.from(chunk as Uint8Array));
  return parseManifest(Buffer.concat(chunks).toString('utf8'));
}

/**
 * The rows of one dump shared a dump_group; the manifest does not carry it, so it is derived from what
 * the rows of one dump have in common (tenant, started_at, sha256 of the dump): stable across rebuilds.
 */
export function rebuiltDumpGroup(m: ManifestV1): string {
  const h = createHash('sha256').update(`${m.backup.tenant_id}\n${m.backup.started_at}\n${m.backup.sha256_dump}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const date = (iso: string | null) => (iso === null ? null : new Date(iso));

export async function rebuildCatalog(db: Db, stores: Stores, options: RebuildOptions = {}): Promise<RebuildResult> {
  const log = options.log ?? (() => {});
  const result: RebuildResult = { added: 0, already: 0, tenants_added: 0 };
  const newestTenant = new Map<string, ManifestV1>();

  for (const found of await listBackups(stores)) {
    const where = found.store.location(found.prefix);
    if (!found.hasManifest) continue; // an unfinished or failed backup: prune removes it, the catalog never knew it
    let manifest: ManifestV1;
    try {
      manifest = await readManifest(found.store, found.prefix + MANIFEST_OBJECT);
    } catch (err) {
      log('skipped an unreadable manifest', { location: where, error: (err as Error).message });
      continue;
    }
    const b = manifest.backup;
    if (parseObjectKey(found.prefix + MANIFEST_OBJECT)?.uuid !== b.id.toLowerCase()) {
      log('skipped a manifest whose backup id does not match its key', { location: where, backup_id: b.id });
      continue;
    }
    if (!found.hasDump) {
      log('skipped a manifest without its dump object', { location: where, backup_id: b.id });
      continue;
    }

    const inserted = await db
      .insert(backupJobs)
      .values({
        id: b.id,
        tenantId: b.tenant_id,
        tierId: b.tier_id,
        backupType: b.backup_type,
        storageTier: b.storage_tier,
        origin: b.origin,
        status: 'completed',
        dumpGroup: rebuiltDumpGroup(manifest),
        backupSizeBytes: b.backup_size_bytes,
        dumpSizeBytes: b.dump_size_bytes,
        progressBytes: b.backup_size_bytes ?? 0,
        // Where the dump is now, which is where the manifest was found.
        backupLocation: found.store.location(found.prefix + DUMP_OBJECT),
        sha256Stored: b.sha256_stored,
        sha256Dump: b.sha256_dump,
        createdAt: date(b.started_at) ?? new Date(),
        startedAt: date(b.started_at),
        completedAt: date(b.completed_at),
        expiresAt: date(b.expires_at),
        legalHold: found.hasHold,
        errorMessage: null,
        requestedBy: b.requested_by,
        attempts: 1,
      })
      .onConflictDoNothing({ target: backupJobs.id })
      .returning({ id: backupJobs.id });
    if (inserted.length === 1) result.added += 1;
    else result.already += 1;

    const seen = newestTenant.get(b.tenant_id);
    if (!seen || (seen.backup.started_at ?? '') < (b.started_at ?? '')) newestTenant.set(b.tenant_id, manifest);
  }

  for (const [tenantId, m] of newestTenant) {
    const inserted = await db
      .insert(tenantState)
      .values({
        tenantId,
        name: m.tenant.name,
        schemaName: m.tenant.schema_name,
        tierId: m.backup.tier_id,
        rebuiltFromManifest: true,
      })
      .onConflictDoNothing({ target: tenantState.tenantId })
      .returning({ tenantId: tenantState.tenantId });
    result.tenants_added += inserted.length;
  }
  return result;
}
