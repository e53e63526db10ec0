// The file index of a backup copy (design.md "Tenant files"): every object of the tenant's files
// prefix as the backup found it, with the chunks (lib/chunks) that hold its content in the copy's
// storage tier. Stored beside the manifest as files-index.json.zst.age (zstd + age, like a chunk:
// `age -d -i key.txt files-index.json.zst.age | zstd -d` reads it); the manifest's `files` names its
// key and the sha256 of its stored bytes, so the signature covers the index and through it every chunk.
import crypto from 'node:crypto';
import { z } from 'zod';
import { chunkEntrySchema, type ChunkEntry } from '../chunks/list.ts';
import { parseChunkKey } from '../chunks/names.ts';

export const FILES_INDEX_OBJECT = 'files-index.json.zst.age';
/**
 * The distinct chunks the index references, in plain JSON (keys, sizes, sha256: nothing of the files'
 * names or content, like an incremental copy's chunk list): what `catalog rebuild` references again
 * without the decryption key, so a rebuilt catalog never lets collection take a file's content.
 */
export const FILES_CHUNKS_OBJECT = 'files-chunks.json';
export const FILES_INDEX_FORMAT = 'strata-files-index/1';

export interface FileEntry {
  /** The object key relative to the files prefix. */
  key: string;
  size: number;
  etag: string;
  /** SHA-256 of the content. */
  sha256: string;
  last_modified: string;
  content_type: string | null;
  /** The object's user metadata (x-amz-meta-*), names lower-case. */
  metadata: Record<string, string>;
  /** The content, in order; none for an empty file. */
  chunks: ChunkEntry[];
}

export interface FilesIndex {
  format: typeof FILES_INDEX_FORMAT;
  backup_id: string;
  tenant_id: string;
  /** The files prefix that was listed. */
  prefix: string;
  files: FileEntry[];
}

/** What manifest.json says of a copy's files. */
export interface ManifestFiles {
  /** The index object's key. */
  index_key: string;
  prefix: string;
  count: number;
  /** Sum of the files' sizes. */
  bytes: number;
  /** Stored bytes of every chunk the index references (counted once per file). */
  stored_bytes: number;
  /** SHA-256 of the index object's stored bytes. */
  sha256_stored: string;
  /** Size of the index's JSON (what decrypting and decompressing it must give). */
  index_plain_bytes: number;
  /** The files-chunks.json object: its key, its number of chunks and the sha256 of its bytes. */
  chunks_key: string;
  chunks_count: number;
  chunks_sha256: string;
}

export const manifestFilesSchema = z.object({
  index_key: z.string().min(1),
  prefix: z.string(),
  count: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  stored_bytes: z.number().int().nonnegative(),
  sha256_stored: z.string().regex(/^[0-9a-f]{64}$/),
  index_plain_bytes: z.number().int().positive(),
  chunks_key: z.string().min(1),
  chunks_count: z.number().int().nonnegative(),
  chunks_sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

const fileEntrySchema = z.object({
  key: z.string().min(1).max(1024),
  size: z.number().int().nonnegative(),
  etag: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  last_modified: z.string(),
  content_type: z.string().nullable(),
  metadata: z.record(z.string(), z.string()),
  chunks: z.array(chunkEntrySchema),
});

const filesIndexSchema = z.object({
  format: z.literal(FILES_INDEX_FORMAT),
  backup_id: z.string(),
  tenant_id: z.string(),
  prefix: z.string(),
  files: z.array(fileEntrySchema),
});

/** The tenant's prefix: its own override, else STRATA_FILES_PREFIX with `{tenant_id}` replaced. */
export function tenantFilesPrefix(template: string, tenantId: string, override?: string | null): string {
  return override ?? template.split('{tenant_id}').join(tenantId);
}

/** A prefix an admin or operator names (override, clone target): relative, ending with "/". */
export const filesPrefixSchema = z
  .string()
  .min(2)
  .max(512)
  .refine((v) => v.endsWith('/') && !v.startsWith('/') && !v.split('/').includes('..'), 'must end with "/", not start with one and have no ".." segment');

export function indexStoredBytes(files: readonly FileEntry[]): number {
  return files.reduce((n, f) => n + f.chunks.reduce((m, c) => m + c.stored_bytes, 0), 0);
}

/** The distinct chunks of an index, by key: files-chunks.json's content. */
export function distinctChunks(files: readonly FileEntry[]): ChunkEntry[] {
  const byKey = new Map<string, ChunkEntry>();
  for (const f of files) for (const c of f.chunks) byKey.set(c.key, c);
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Parses files-chunks.json read back from a bucket. */
export function parseFilesChunks(text: string): ChunkEntry[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`files-chunks.json is not JSON: ${(err as Error).message}`);
  }
  const result = z.array(chunkEntrySchema).safeParse(data);
  if (!result.success) throw new Error(`files-chunks.json ${result.error.issues[0]!.path.join('.')}: ${result.error.issues[0]!.message}`);
  return result.data;
}

export function indexBytes(index: FilesIndex): Buffer {
  return Buffer.from(JSON.stringify(index), 'utf8');
}

export const sha256Hex = (data: Buffer) => crypto.createHash('sha256').update(data).digest('hex');

/** Parses an index read back from a bucket; the error names the first bad field. */
export function parseFilesIndex(text: string): FilesIndex {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`the file index is not JSON: ${(err as Error).message}`);
  }
  const result = filesIndexSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`file index ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return result.data as FilesIndex;
}

/** Why an index cannot be the one the signed manifest describes (empty when it is). */
export function filesIndexProblems(index: FilesIndex, summary: ManifestFiles, backupId: string, tenantId: string): string[] {
  const problems: string[] = [];
  if (index.backup_id !== backupId) problems.push(`it belongs to backup ${index.backup_id}, not ${backupId}`);
  if (index.tenant_id !== tenantId) problems.push(`it belongs to tenant ${index.tenant_id}, not ${tenantId}`);
  if (index.prefix !== summary.prefix) problems.push(`it lists prefix ${index.prefix}, the manifest ${summary.prefix}`);
  if (index.files.length !== summary.count) problems.push(`it lists ${index.files.length} files, the manifest ${summary.count}`);
  const bytes = index.files.reduce((n, f) => n + f.size, 0);
  if (bytes !== summary.bytes) problems.push(`its files add up to ${bytes} bytes, the manifest says ${summary.bytes}`);
  const keys = new Set<string>();
  for (const f of index.files) {
    if (keys.has(f.key)) problems.push(`it lists ${f.key} twice`);
    keys.add(f.key);
    const foreign = f.chunks.find((c) => parseChunkKey(c.key)?.tenantId !== tenantId);
    if (foreign) problems.push(`${f.key}: chunk ${foreign.key} is not one of tenant ${tenantId}'s`);
    const plain = f.chunks.reduce((n, c) => n + c.plain_bytes, 0);
    if (plain !== f.size) problems.push(`${f.key}: its chunks hold ${plain} bytes, the file ${f.size}`);
    if (problems.length >= 5) break;
  }
  return problems;
}
