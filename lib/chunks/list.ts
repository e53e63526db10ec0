// The chunk list of an incremental backup copy, as its manifest carries it (design.md "Incremental
// backups"): the dump's chunks in order, each with its object key, sizes and the sha256 of its stored
// bytes. The catalog's sha256_stored of such a copy is chunkListDigest(list), so the list a restore
// reads is bound to the catalog row as well as to the manifest's signature.
import crypto from 'node:crypto';
import { z } from 'zod';
import { parseChunkKey } from './names.ts';

export interface ChunkEntry {
  key: string;
  plain_bytes: number;
  stored_bytes: number;
  sha256_stored: string;
}

export const chunkEntrySchema = z.object({
  key: z.string().refine((k) => parseChunkKey(k) !== null, 'not a chunk object key'),
  plain_bytes: z.number().int().positive(),
  stored_bytes: z.number().int().positive(),
  sha256_stored: z.string().regex(/^[0-9a-f]{64}$/),
});

/** sha256 over one line `<sha256_stored> <stored_bytes> <key>\n` per chunk, in order. */
export function chunkListDigest(chunks: readonly ChunkEntry[]): string {
  const hash = crypto.createHash('sha256');
  for (const c of chunks) hash.update(`${c.sha256_stored} ${c.stored_bytes} ${c.key}\n`);
  return hash.digest('hex');
}

/** Problems of a chunk list read from a bucket for `tenantId` (empty when it is usable). */
export function chunkListProblems(chunks: readonly ChunkEntry[], tenantId: string, dumpBytes: number): string[] {
  const problems: string[] = [];
  const foreign = chunks.findIndex((c) => parseChunkKey(c.key)?.tenantId !== tenantId);
  if (foreign >= 0) problems.push(`chunk ${foreign} (${chunks[foreign]!.key}) is not one of tenant ${tenantId}'s chunks`);
  const total = chunks.reduce((n, c) => n + c.plain_bytes, 0);
  if (total !== dumpBytes) problems.push(`the chunks add up to ${total} bytes, the dump has ${dumpBytes}`);
  return problems;
}
