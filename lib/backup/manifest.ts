// Object layout and manifest v1 (docs/design.md "Object layout"):
//   backups/<tenant-id>/<YYYY>/<MM>/<backup-uuid>/dump.zst.age   pg_dump -Fc -Z0 → zstd → age
//   backups/<tenant-id>/<YYYY>/<MM>/<backup-uuid>/manifest.json.sig  Ed25519 signature of manifest.json's exact bytes
//   backups/<tenant-id>/<YYYY>/<MM>/<backup-uuid>/manifest.json  written last, once the dump is confirmed
//   backups/<tenant-id>/<YYYY>/<MM>/<backup-uuid>/legal-hold     present while a legal hold is on
//   backups/<tenant-id>/<YYYY>/<MM>/<backup-uuid>/files-index.json.zst.age  the tenant's files (lib/files), when included
//   backups/<tenant-id>/chunks/<mac[0..2]>/<mac>-<nonce>         a chunk of incremental copies (lib/chunks/names.ts)
// An incremental copy has no dump.zst.age: its manifest lists its chunks (`chunks`), its backup_location
// is its manifest.json and its sha256_stored is the digest of that list (lib/chunks/list.ts).
// YYYY/MM is the backup's started_at in UTC. The manifest alone is enough to restore with standard tools.
// Signature (lib/backup/signing.ts): manifest.json.sig is detached, the 64 raw bytes of an Ed25519
// signature (no envelope, no encoding) over manifest.json exactly as stored, so it covers every field:
// backup id, tenant, backup_location (the object key), both sha256 and sizes. It is written BEFORE the
// manifest, because manifest.json is the "backup is complete" marker: a complete backup is always signed.
// Check it with `openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in manifest.json -sigfile manifest.json.sig`.
// Nothing read from a bucket is trusted without it: restore, verify, drills and catalog rebuild refuse a
// manifest whose signature is missing or from no key of STRATA_VERIFY_KEYS.
import { z } from 'zod';
import packageJson from '../../package.json' with { type: 'json' };
import { BACKUPS_ROOT, TENANT_ID_RE, uuidSchema } from '../domain.ts';
import type { BackupJson } from './serialize.ts';
import { chunkEntrySchema, type ChunkEntry } from '../chunks/list.ts';
import { manifestFilesSchema, type ManifestFiles } from '../files/index-format.ts';

export const DUMP_OBJECT = 'dump.zst.age';
export const MANIFEST_OBJECT = 'manifest.json';
export const SIGNATURE_OBJECT = 'manifest.json.sig';
export const LEGAL_HOLD_OBJECT = 'legal-hold';

export const STRATA_VERSION: string = packageJson.version;

/** `backups/<tenant-id>/<YYYY>/<MM>/<uuid>/` — the prefix holding every object of one backup. */
export function backupKey(tenantId: string, startedAt: Date, uuid: string): string {
  if (!TENANT_ID_RE.test(tenantId)) throw new Error(`not a tenant id: ${JSON.stringify(tenantId)}`);
  if (!uuidSchema.safeParse(uuid).success) throw new Error(`not a backup id (UUID): ${JSON.stringify(uuid)}`);
  if (Number.isNaN(startedAt.getTime())) throw new Error('started_at is not a valid date');
  const yyyy = String(startedAt.getUTCFullYear()).padStart(4, '0');
  const mm = String(startedAt.getUTCMonth() + 1).padStart(2, '0');
  return `${BACKUPS_ROOT}${tenantId}/${yyyy}/${mm}/${uuid.toLowerCase()}/`;
}

/** The backup prefix of one of its objects' keys (`…/<uuid>/dump.zst.age` → `…/<uuid>/`). */
export function prefixOfObjectKey(key: string): string {
  return key.slice(0, key.lastIndexOf('/') + 1);
}

/** Matches a key under the layout; `uuid` and `object` are the last two segments. */
export function parseObjectKey(key: string): { tenantId: string; yyyy: string; mm: string; uuid: string; object: string } | null {
  const m = /^backups\/([^/]+)\/(\d{4})\/(\d{2})\/([0-9a-f-]{36})\/([^/]+)$/.exec(key);
  if (!m || !TENANT_ID_RE.test(m[1]!)) return null;
  return { tenantId: m[1]!, yyyy: m[2]!, mm: m[3]!, uuid: m[4]!, object: m[5]! };
}

export interface ManifestV1 {
  format_version: 1;
  backup: BackupJson;
  tenant: { id: string; name: string; schema_name: string };
  compression: 'zstd';
  encryption: { scheme: 'age'; recipients: string[] };
  pg_dump_version: string;
  server_version: string;
  strata_version: string;
  /** An incremental copy's chunks, in dump order (design.md "Incremental backups"); absent for a full backup. */
  chunks?: ChunkEntry[];
  /** The tenant's files in this copy (design.md "Tenant files"): the index object and what it lists; absent without files. */
  files?: ManifestFiles;
}

export interface ManifestInput {
  backup: BackupJson;
  tenant: { id: string; name: string; schemaName: string };
  recipients: string[];
  pgDumpVersion: string;
  serverVersion: string;
  chunks?: ChunkEntry[];
  files?: ManifestFiles;
}

export function buildManifest(input: ManifestInput): ManifestV1 {
  return {
    format_version: 1,
    backup: input.backup,
    tenant: { id: input.tenant.id, name: input.tenant.name, schema_name: input.tenant.schemaName },
    compression: 'zstd',
    encryption: { scheme: 'age', recipients: [...input.recipients] },
    pg_dump_version: input.pgDumpVersion,
    server_version: input.serverVersion,
    strata_version: STRATA_VERSION,
    ...(input.chunks ? { chunks: input.chunks } : {}),
    ...(input.files ? { files: input.files } : {}),
  };
}

/** The bytes of manifest.json: pretty-printed (people read it during a restore), newline-terminated. */
export function manifestBytes(manifest: ManifestV1): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
}

const isoTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/, 'must be an ISO-8601 UTC time');
const nullable = <T extends z.ZodType>(t: T) => t.nullable();

const manifestSchema = z.object({
  format_version: z.literal(1),
  backup: z.object({
    id: uuidSchema,
    tenant_id: z.string().regex(TENANT_ID_RE),
    tier_id: nullable(z.string()),
    backup_type: z.string(),
    storage_tier: z.string(),
    origin: z.string(),
    status: z.string(),
    backup_size_bytes: nullable(z.number().int().nonnegative()),
    dump_size_bytes: nullable(z.number().int().nonnegative()),
    added_bytes: nullable(z.number().int().nonnegative()).optional(),
    backup_location: nullable(z.string()),
    sha256_stored: nullable(z.string()),
    sha256_dump: nullable(z.string()),
    started_at: nullable(isoTime),
    completed_at: nullable(isoTime),
    expires_at: nullable(isoTime),
    legal_hold: z.boolean(),
    error_message: nullable(z.string()),
    requested_by: z.string(),
    include_files: z.boolean().optional(),
    files_count: nullable(z.number().int().nonnegative()).optional(),
    files_bytes: nullable(z.number().int().nonnegative()).optional(),
  }),
  tenant: z.object({ id: z.string(), name: z.string(), schema_name: z.string() }),
  compression: z.literal('zstd'),
  encryption: z.object({ scheme: z.literal('age'), recipients: z.array(z.string()) }),
  pg_dump_version: z.string(),
  server_version: z.string(),
  strata_version: z.string(),
  chunks: z.array(chunkEntrySchema).optional(),
  files: manifestFilesSchema.optional(),
});

/** Parses and checks manifest.json text; the error names the first bad field. */
export function parseManifest(text: string): ManifestV1 {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`manifest is not JSON: ${(err as Error).message}`);
  }
  const result = manifestSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`manifest ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return result.data as ManifestV1;
}
