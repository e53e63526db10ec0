// The part of manifest v1 (CONTRACTS.md "Object layout") a restore relies on, read from the store
// beside the dump object. Validated loosely: newer writers may add fields.
import { z } from 'zod';
import type { ObjectStore } from '../storage/types.ts';
import { parseLocation } from '../storage/types.ts';
import { BackupObjectMissingError, InvalidDumpError } from './errors.ts';

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
  }),
  tenant: z.looseObject({ id: z.string(), name: z.string(), schema_name: z.string().min(1) }),
  encryption: z.looseObject({ scheme: z.literal('age'), recipients: z.array(z.string()) }).optional(),
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

/** Reads and parses the manifest stored beside the dump at backupLocation. */
export async function readManifest(store: ObjectStore, backupLocation: string): Promise<RestoreManifest> {
  const key = manifestKeyFor(backupLocation);
  let body;
  try {
    body = await store.get(key);
  } catch (err) {
    if (store.isNotFound(err)) throw new BackupObjectMissingError(store.location(key), { cause: err });
    throw err;
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > 4 * 1024 * 1024) throw new InvalidDumpError(`manifest ${store.location(key)} is larger than 4 MiB`);
    chunks.push(chunk);
  }
  return parseRestoreManifest(Buffer.concat(chunks).toString('utf8'), store.location(key));
}
