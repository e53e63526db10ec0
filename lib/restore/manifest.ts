// The part of manifest v1 (docs/design.md "Object layout") a restore relies on, read from the store
// beside the dump object. Validated loosely: newer writers may add fields.
// Nothing in a bucket is trusted (issue 13): readTrustedManifest accepts a manifest only when its
// detached signature (manifest.json.sig) verifies with a key of STRATA_VERIFY_KEYS and it describes
// exactly the catalog's row (id, tenant, location, sha256). Every reader of a backup goes through it.
import { z } from 'zod';
import { chunkEntrySchema } from '../chunks/list.ts';
import { manifestFilesSchema } from '../files/index-format.ts';
import { audit } from '../audit.ts';
import { parseObjectKey, SIGNATURE_OBJECT } from '../backup/manifest.ts';
import { verifyKeysOf, verifyManifest } from '../backup/signing.ts';
import type { Db } from '../db/client.ts';
import type { BackupJobRow } from '../db/schema.ts';
import type { Config } from '../env.ts';
import type { Stores } from '../storage/registry.ts';
import type { ObjectStore } from '../storage/types.ts';
import { parseLocation } from '../storage/types.ts';
import { BackupObjectMissingError, InvalidDumpError, RestoreError, UntrustedBackupError } from './errors.ts';

const sha = z.string().regex(/^[0-9a-f]{64}$/);
const size = z.number().int().nonnegative();

const restoreManifestSchema = z.looseObject({
  format_version: z.literal(1),
  backup: z.looseObject({
    id: z.string(),
    tenant_id: z.string(),
    backup_location: z.string(),
    backup_size_bytes: size,
    dump_size_bytes: size,
    sha256_stored: sha,
    sha256_dump: sha,
    backup_type: z.string().optional(),
  }),
  tenant: z.looseObject({ id: z.string(), name: z.string(), schema_name: z.string().min(1) }),
  encryption: z.looseObject({ scheme: z.literal('age'), recipients: z.array(z.string()) }).optional(),
  /** An incremental copy's chunks in dump order (lib/restore/fetch-chunks.ts checks them). */
  chunks: z.array(chunkEntrySchema).optional(),
  /** The copy's files (lib/files/read-index.ts reads and checks the index it names). */
  files: manifestFilesSchema.optional(),
});

/** What fetchVerifiedDump and the restore read from a manifest; a ManifestV1 satisfies it. */
export type RestoreManifest = z.infer<typeof restoreManifestSchema>;

export function parseRestoreManifest(text: string, location: string): RestoreManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidDumpError(`manifest of ${location} is not JSON`);
  }
  const result = restoreManifestSchema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new InvalidDumpError(`manifest of ${location} is not a usable manifest v1: ${issues}`);
  }
  return result.data;
}

/** `…/<uuid>/manifest.json` beside a dump's `backup_location`. */
export function manifestKeyFor(backupLocation: string): string {
  const { key } = parseLocation(backupLocation);
  return `${key.slice(0, key.lastIndexOf('/') + 1)}manifest.json`;
}

/** An object's bytes (at most `limit`), or null when it does not exist. */
async function readSmallObject(store: ObjectStore, key: string, limit: number): Promise<Buffer | null> {
  let body;
  try {
    body = await store.get(key);
  } catch (err) {
    if (store.isNotFound(err)) return null;
    throw err;
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > limit) throw new InvalidDumpError(`${store.location(key)} is larger than ${limit} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** The bytes of the manifest stored beside the dump at backupLocation. */
async function readManifestBytes(store: ObjectStore, backupLocation: string): Promise<Buffer> {
  const key = manifestKeyFor(backupLocation);
  const bytes = await readSmallObject(store, key, 4 * 1024 * 1024);
  if (!bytes) throw new BackupObjectMissingError(store.location(key));
  return bytes;
}

/** Reads and parses the manifest stored beside the dump at backupLocation. Unchecked: use readTrustedManifest to restore. */
export async function readManifest(store: ObjectStore, backupLocation: string): Promise<RestoreManifest> {
  const bytes = await readManifestBytes(store, backupLocation);
  return parseRestoreManifest(bytes.toString('utf8'), store.location(manifestKeyFor(backupLocation)));
}

export interface TrustOptions {
  /** An admin confirmed using a backup whose manifest has no signature (taken before signing existed). */
  allowUnsigned?: boolean;
}

export interface TrustedManifest {
  manifest: RestoreManifest;
  store: ObjectStore;
  /** Key id of the verify key that signed it; null: unsigned, accepted by an admin's allowUnsigned. */
  signedBy: string | null;
}

type CatalogBackup = Pick<BackupJobRow, 'id' | 'tenantId' | 'backupLocation' | 'sha256Stored' | 'sha256Dump' | 'backupSizeBytes' | 'dumpSizeBytes' | 'signed'>;

/** Why the manifest does not describe the catalog's backup, or null when it does. Pure. */
export function catalogMismatch(m: RestoreManifest, backup: CatalogBackup): string | null {
  const location = backup.backupLocation!;
  const { key } = parseLocation(location);
  if (m.backup.id.toLowerCase() !== backup.id.toLowerCase()) return `the manifest describes backup ${m.backup.id}, not ${backup.id}`;
  if (m.backup.tenant_id !== backup.tenantId || m.tenant.id !== backup.tenantId) {
    return `the manifest claims tenant ${JSON.stringify(m.backup.tenant_id)}, the catalog says ${JSON.stringify(backup.tenantId)}`;
  }
  const keyTenant = parseObjectKey(key)?.tenantId;
  if (keyTenant !== backup.tenantId) return `the object key ${key} is not under tenant ${JSON.stringify(backup.tenantId)}'s prefix`;
  // The bucket may differ (a disaster-recovery copy); the object key may not.
  let manifestKey: string | null = null;
  try {
    manifestKey = parseLocation(m.backup.backup_location).key;
  } catch {
    manifestKey = null;
  }
  if (manifestKey !== key) return `the manifest's backup_location ${m.backup.backup_location} is not ${location}`;
  if (!backup.sha256Stored) return 'the catalog row has no sha256_stored to compare the manifest with';
  if (m.backup.sha256_stored !== backup.sha256Stored) return `the manifest's sha256_stored ${m.backup.sha256_stored} is not the catalog's ${backup.sha256Stored}`;
  if (backup.sha256Dump && m.backup.sha256_dump !== backup.sha256Dump) return `the manifest's sha256_dump ${m.backup.sha256_dump} is not the catalog's ${backup.sha256Dump}`;
  if (backup.backupSizeBytes !== null && m.backup.backup_size_bytes !== backup.backupSizeBytes) {
    return `the manifest's backup_size_bytes ${m.backup.backup_size_bytes} is not the catalog's ${backup.backupSizeBytes}`;
  }
  return null;
}

/** Records a refusal in the audit log (who reads a bucket's forgery should see it), then rethrows. */
export async function auditRefusal(db: Pick<Db, 'insert'>, backup: Pick<BackupJobRow, 'id' | 'tenantId' | 'backupLocation'>, err: unknown): Promise<never> {
  if (err instanceof RestoreError && (err.reason === 'untrusted' || err.reason === 'foreign_entry')) {
    await audit(db, {
      actor: 'system',
      action: 'backup.refused',
      target: backup.tenantId,
      details: { backup_id: backup.id, location: backup.backupLocation, reason: err.reason, error: err.message.slice(0, 2000) },
    }).catch(() => {});
  }
  throw err;
}

/**
 * The manifest beside a completed backup's dump, checked: signed by a key of STRATA_VERIFY_KEYS (or,
 * with an admin's allowUnsigned, unsigned and not known to the catalog as signed), and describing the
 * catalog's row. Any refusal is an UntrustedBackupError naming the backup and why, audited.
 */
export async function readTrustedManifest(
  ctx: { db: Pick<Db, 'insert'>; config: Config; stores: Stores },
  backup: CatalogBackup,
  options: TrustOptions = {},
): Promise<TrustedManifest> {
  const location = backup.backupLocation;
  if (!location) throw new InvalidDumpError(`backup ${backup.id} has no backup_location`);
  try {
    const refuse = (why: string) => new UntrustedBackupError(backup.id, location, why);
    const keys = verifyKeysOf(ctx.config);
    const store = ctx.stores.forLocation(location);
    const bytes = await readManifestBytes(store, location);
    const sigKey = manifestKeyFor(location).replace(/manifest\.json$/, SIGNATURE_OBJECT);
    const signature = await readSmallObject(store, sigKey, 1024);
    let signedBy: string | null = null;
    if (!signature) {
      if (backup.signed) throw refuse(`its signature ${SIGNATURE_OBJECT} is missing, though the backup was signed when it was taken`);
      if (!options.allowUnsigned) {
        throw refuse(`its manifest is unsigned (no ${SIGNATURE_OBJECT}); a backup taken before signing existed is used only with an admin's explicit --allow-unsigned`);
      }
    } else {
      const key = verifyManifest(bytes, signature, keys);
      if (!key) throw refuse(`its manifest signature does not verify with any key of STRATA_VERIFY_KEYS (${keys.map((k) => k.id).join(', ')}): signed by an unknown key, or altered`);
      signedBy = key.id;
    }
    const manifest = parseRestoreManifest(bytes.toString('utf8'), store.location(manifestKeyFor(location)));
    const mismatch = catalogMismatch(manifest, backup);
    if (mismatch) throw refuse(`it does not match the catalog: ${mismatch}`);
    return { manifest, store, signedBy };
  } catch (err) {
    return auditRefusal(ctx.db, backup, err);
  }
}
