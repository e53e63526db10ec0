// `strata catalog rebuild`: the catalog recreated from the stores alone, after the database was lost.
// Every `backups/…/<uuid>/manifest.json` in every configured store becomes a completed backup row
// again (same uuid, fields from the manifest, legal hold from the `legal-hold` marker), and every
// tenant named by a manifest gets a tenant_state row flagged rebuilt_from_manifest. The platform's
// own tables (tenants, tenant_subscriptions) are never written: they belong to the SaaS app.
// Idempotent: a second run finds every row already there and adds nothing.
// Nothing in a bucket is trusted (issue 13): a manifest is taken in only when its signature
// (manifest.json.sig) verifies with a key of STRATA_VERIFY_KEYS and its object key names the same
// tenant and backup id as its content, and its backup_location is where it was found. Everything else
// is `rejected` with the reason, audited, and never becomes a row. Backups taken before signing existed
// have no signature: only `--trust-unsigned` (trustUnsigned) takes them in, loudly, as signed = false
// rows; a signature that does not verify is refused even then.
import { createHash } from 'node:crypto';
import { audit } from '../audit.ts';
import { backupJobs, tenantState } from '../db/schema.ts';
import { BACKUPS_ROOT, type StorageTier } from '../domain.ts';
import { chunkListDigest, chunkListProblems } from '../chunks/list.ts';
import { recordRebuiltChunks } from '../chunks/store.ts';
import type { ChunkEntry } from '../chunks/list.ts';
import { parseChunkKey } from '../chunks/names.ts';
import { FILES_CHUNKS_OBJECT, parseFilesChunks } from '../files/index-format.ts';
import type { Db } from '../db/client.ts';
import type { Stores } from '../storage/registry.ts';
import type { ObjectStore } from '../storage/types.ts';
import { parseLocation } from '../storage/types.ts';
import {
  DUMP_OBJECT,
  LEGAL_HOLD_OBJECT,
  MANIFEST_OBJECT,
  parseManifest,
  parseObjectKey,
  SIGNATURE_OBJECT,
  type ManifestV1,
} from '../backup/manifest.ts';
import { verifyManifest, type VerifyKey } from '../backup/signing.ts';

export interface RejectedManifest {
  /** Where the manifest is (`s3://…/manifest.json`). */
  location: string;
  reason: string;
}

export interface RebuildResult {
  added: number;
  already: number;
  tenants_added: number;
  /** Manifests refused (unsigned, unknown key, inconsistent with their key): never in the catalog. */
  rejected: RejectedManifest[];
  /** Unsigned manifests taken in because of trustUnsigned (recorded as signed = false). */
  trusted_unsigned: number;
}

export interface RebuildOptions {
  /** The public keys a manifest's signature may come from (verifyKeysOf(config)). */
  verifyKeys: VerifyKey[];
  /** Take in manifests without a signature (backups from before signing), as signed = false rows. */
  trustUnsigned?: boolean;
  /** Manifests that could not be used, and the loud warnings of trustUnsigned. */
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

interface FoundBackup {
  store: ObjectStore;
  prefix: string;
  hasDump: boolean;
  hasManifest: boolean;
  hasSignature: boolean;
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
      const entry = found.get(id) ?? { store, prefix, hasDump: false, hasManifest: false, hasSignature: false, hasHold: false };
      if (parsed.object === DUMP_OBJECT) entry.hasDump = true;
      if (parsed.object === MANIFEST_OBJECT) entry.hasManifest = true;
      if (parsed.object === SIGNATURE_OBJECT) entry.hasSignature = true;
      if (parsed.object === LEGAL_HOLD_OBJECT) entry.hasHold = true;
      found.set(id, entry);
    }
  }
  return [...found.values()];
}

async function readObject(store: ObjectStore, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of await store.get(key)) {
    total += (chunk as Uint8Array).length;
    if (total > 4 * 1024 * 1024) throw new Error(`${store.location(key)} is larger than 4 MiB`);
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}

/** Why the manifest found under `prefix` does not describe the backup stored there, or null. Pure. */
export function keyMismatch(m: ManifestV1, prefix: string): string | null {
  const key = parseObjectKey(prefix + MANIFEST_OBJECT);
  if (!key) return `${prefix} is not a backup prefix`;
  if (key.uuid !== m.backup.id.toLowerCase()) return `the manifest describes backup ${m.backup.id}, its key is backup ${key.uuid}`;
  if (m.backup.tenant_id !== key.tenantId || m.tenant.id !== key.tenantId) {
    return `the manifest claims tenant ${JSON.stringify(m.backup.tenant_id)}, its key is under tenant ${JSON.stringify(key.tenantId)}`;
  }
  if (m.backup.status !== 'completed') return `the manifest's backup is ${m.backup.status}, not completed`;
  if (!m.backup.sha256_stored || !m.backup.sha256_dump) return 'the manifest has no sha256 of the stored object or the dump';
  let location: string | null = null;
  try {
    location = m.backup.backup_location === null ? null : parseLocation(m.backup.backup_location).key;
  } catch {
    location = null;
  }
  if (m.backup.backup_type === 'incremental') {
    if (location !== prefix + MANIFEST_OBJECT) return `the manifest's backup_location ${m.backup.backup_location} is not the manifest itself (an incremental copy)`;
    if (!m.chunks) return 'the manifest is an incremental copy\'s but lists no chunks';
    if (chunkListDigest(m.chunks) !== m.backup.sha256_stored) return 'the manifest\'s chunk list does not match its sha256_stored';
    const problems = chunkListProblems(m.chunks, key.tenantId, m.backup.dump_size_bytes ?? -1);
    if (problems.length > 0) return problems.join('; ');
    return null;
  }
  if (location !== prefix + DUMP_OBJECT) return `the manifest's backup_location ${m.backup.backup_location} is not the dump beside it`;
  return null;
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

/** files-chunks.json beside the manifest, checked against what the signed manifest says of it. */
async function readFilesChunks(store: ObjectStore, prefix: string, manifest: ManifestV1): Promise<ChunkEntry[]> {
  const files = manifest.files!;
  if (files.chunks_key !== prefix + FILES_CHUNKS_OBJECT) throw new Error(`the manifest names ${files.chunks_key}, not ${prefix + FILES_CHUNKS_OBJECT}`);
  const bytes = await readObject(store, files.chunks_key);
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== files.chunks_sha256) throw new Error(`${FILES_CHUNKS_OBJECT} has sha256 ${sha}, the manifest says ${files.chunks_sha256}`);
  const chunks = parseFilesChunks(bytes.toString('utf8'));
  if (chunks.length !== files.chunks_count) throw new Error(`${FILES_CHUNKS_OBJECT} lists ${chunks.length} chunks, the manifest ${files.chunks_count}`);
  const foreign = chunks.find((c) => parseChunkKey(c.key)?.tenantId !== manifest.tenant.id);
  if (foreign) throw new Error(`${foreign.key} is not one of tenant ${manifest.tenant.id}'s chunks`);
  return chunks;
}

export async function rebuildCatalog(db: Db, stores: Stores, options: RebuildOptions): Promise<RebuildResult> {
  const log = options.log ?? (() => {});
  const result: RebuildResult = { added: 0, already: 0, tenants_added: 0, rejected: [], trusted_unsigned: 0 };
  const newestTenant = new Map<string, ManifestV1>();
  if (options.verifyKeys.length === 0) throw new Error('catalog rebuild needs at least one verify key (STRATA_VERIFY_KEYS)');
  if (options.trustUnsigned) {
    log('WARNING: --trust-unsigned: manifests WITHOUT a signature are taken into the catalog (as unsigned). Anyone with write access to a bucket can forge those; use it only for backups taken before signing existed.');
  }

  const reject = async (where: string, prefix: string, reason: string) => {
    result.rejected.push({ location: where, reason });
    log('rejected a manifest', { location: where, reason });
    const key = parseObjectKey(prefix + MANIFEST_OBJECT);
    await audit(db, {
      actor: 'system',
      action: 'backup.refused',
      target: key?.tenantId ?? null,
      details: { backup_id: key?.uuid ?? null, location: where, reason: `catalog rebuild: ${reason}` },
    });
  };

  for (const found of await listBackups(stores)) {
    const where = found.store.location(found.prefix + MANIFEST_OBJECT);
    if (!found.hasManifest) continue; // an unfinished or failed backup: prune removes it, the catalog never knew it
    let manifest: ManifestV1;
    let signed: boolean;
    try {
      const bytes = await readObject(found.store, found.prefix + MANIFEST_OBJECT);
      const signature = found.hasSignature ? await readObject(found.store, found.prefix + SIGNATURE_OBJECT) : null;
      if (signature) {
        if (!verifyManifest(bytes, signature, options.verifyKeys)) {
          await reject(where, found.prefix, 'its signature does not verify with any key of STRATA_VERIFY_KEYS: signed by an unknown key, or altered');
          continue;
        }
        signed = true;
      } else if (options.trustUnsigned) {
        signed = false;
      } else {
        await reject(where, found.prefix, `unsigned (no ${SIGNATURE_OBJECT}); a backup taken before signing existed is taken in only with --trust-unsigned`);
        continue;
      }
      manifest = parseManifest(bytes.toString('utf8'));
    } catch (err) {
      await reject(where, found.prefix, `unreadable: ${(err as Error).message}`);
      continue;
    }
    const mismatch = keyMismatch(manifest, found.prefix);
    if (mismatch) {
      await reject(where, found.prefix, mismatch);
      continue;
    }
    const b = manifest.backup;
    const incremental = b.backup_type === 'incremental';
    if (!incremental && !found.hasDump) {
      log('skipped a manifest without its dump object', { location: where, backup_id: b.id });
      continue;
    }
    // The copy's files: their chunk list (files-chunks.json, bound to the signed manifest by its sha256).
    let fileChunks: ChunkEntry[] | null = null;
    if (manifest.files) {
      try {
        fileChunks = await readFilesChunks(found.store, found.prefix, manifest);
      } catch (err) {
        log('took in a backup WITHOUT its files: their chunk list is unusable', { location: where, backup_id: b.id, error: (err as Error).message });
      }
    }
    if (!signed) {
      log('WARNING: took in an UNSIGNED manifest (--trust-unsigned)', { location: where, backup_id: b.id, tenant_id: b.tenant_id });
      result.trusted_unsigned += 1;
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
        addedBytes: b.added_bytes ?? (incremental ? null : b.backup_size_bytes),
        progressBytes: b.backup_size_bytes ?? 0,
        // Where the dump is now, which is where the manifest was found.
        backupLocation: found.store.location(found.prefix + (incremental ? MANIFEST_OBJECT : DUMP_OBJECT)),
        sha256Stored: b.sha256_stored,
        sha256Dump: b.sha256_dump,
        signed,
        createdAt: date(b.started_at) ?? new Date(),
        startedAt: date(b.started_at),
        completedAt: date(b.completed_at),
        expiresAt: date(b.expires_at),
        legalHold: found.hasHold,
        errorMessage: null,
        requestedBy: b.requested_by,
        attempts: 1,
        ...(manifest.files && fileChunks
          ? {
              includeFiles: true,
              filesPrefix: manifest.files.prefix,
              filesCount: manifest.files.count,
              filesBytes: manifest.files.bytes,
              filesStoredBytes: manifest.files.stored_bytes,
            }
          : {}),
      })
      .onConflictDoNothing({ target: backupJobs.id })
      .returning({ id: backupJobs.id });
    if (inserted.length === 1) result.added += 1;
    else result.already += 1;
    // An incremental copy's chunks: catalogued and referenced, so collection never takes them.
    if (incremental) await recordRebuiltChunks(db, { backupId: b.id, tenantId: b.tenant_id, tier: b.storage_tier as StorageTier }, manifest.chunks!);
    // And its files' chunks, so collection and the orphan sweep never take a file's content.
    if (fileChunks) await recordRebuiltChunks(db, { backupId: b.id, tenantId: b.tenant_id, tier: b.storage_tier as StorageTier }, fileChunks, { files: true });

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
