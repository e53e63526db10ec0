// The tenant schema and its grants first, everything else after. pg_restore gives each object its owner
// (ALTER … OWNER TO) as it creates it, but replays ACLs in a pass of their own at the very end. An
// application whose second object owner may create in the tenant schema only through the schema's ACL
// (`GRANT CREATE ON SCHEMA t TO etl`) then cannot be restored by a replay role that is not a superuser:
// `ALTER TABLE … OWNER TO etl` needs etl to hold CREATE on the schema, and that grant comes last
// ("permission denied for schema t"). Replaying the SCHEMA entry and the schema's own ACL entry in a
// pg_restore run of their own, before the rest of the archive, puts the grant in place in time.
import fs from 'node:fs';
import path from 'node:path';
import type { TocEntry } from './archive-toc.ts';
import { readArchiveToc } from './archive-toc.ts';

export interface SchemaFirstSplit {
  /** The SCHEMA entry and the schema's own ACL entry (empty when the archive has no SCHEMA entry). */
  head: number[];
  /** Every other entry, in the archive's order. */
  tail: number[];
}

/** Splits an archive's entries into the schema with its grants, and the rest. */
export function schemaFirst(entries: readonly TocEntry[]): SchemaFirstSplit {
  const schemaIds = new Set(entries.filter((e) => e.desc === 'SCHEMA').map((e) => String(e.dumpId)));
  const inHead = (e: TocEntry) =>
    e.desc === 'SCHEMA' || (e.desc === 'ACL' && (e.tag ?? '').startsWith('SCHEMA ') && e.deps.some((d) => schemaIds.has(d)));
  return {
    head: entries.filter(inHead).map((e) => e.dumpId),
    tail: entries.filter((e) => !inHead(e)).map((e) => e.dumpId),
  };
}

/** The two `pg_restore -L` list files for an archive, written into `dir` (the job's private temp dir). */
export async function writeSchemaFirstLists(dumpPath: string, dir: string): Promise<{ head: string; tail: string }> {
  const { head, tail } = schemaFirst((await readArchiveToc(dumpPath)).entries);
  const files = { head: path.join(dir, 'schema-first-head.list'), tail: path.join(dir, 'schema-first-tail.list') };
  await fs.promises.writeFile(files.head, listText(head), { mode: 0o600 });
  await fs.promises.writeFile(files.tail, listText(tail), { mode: 0o600 });
  return files;
}

/** A `pg_restore -L` list naming these entries, in this order. */
export function listText(ids: readonly number[]): string {
  return ids.map((id) => `${id};\n`).join('');
}
