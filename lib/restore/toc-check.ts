// What a dump may contain before anything of it is replayed (issue 13): only the tenant's source schema
// — the schema itself, its objects and their data, comments, ACLs and default ACLs. Any other entry
// (another schema's objects, EXTENSION, DATABASE, publications, event triggers, large objects, casts,
// foreign servers …) refuses the restore or verification with the entry named.
//
// The table of contents is read from the archive itself (lib/restore/archive-toc.ts, the same fields
// pg_restore's ReadHead/ReadToc read) rather than from `pg_restore --list`: --list prints names
// unquoted and space-separated, so a schema, tag or owner with spaces cannot be told apart there.
// There every string is length-prefixed; here it is compared exactly.
//
// This classifies entries; it cannot judge the SQL inside an entry (a forged "TABLE" entry may hold any
// statement). That is what the manifest signature is for: a dump is read only once its signed manifest
// and its sha256 agree. The check is a second wall against a genuine dump holding more than the tenant.
import { quoteIdent } from '../db/ident.ts';
import { parseToc, readArchiveToc as readArchive, type ArchiveToc } from './archive-toc.ts';

/** What the check reads of an archive's TOC entry. */
export interface TocEntry {
  dumpId: number;
  desc: string;
  /** null: an object outside any schema (SCHEMA, EXTENSION, DATABASE, the archive's settings …). */
  namespace: string | null;
  tag: string;
  owner: string | null;
  defn: string;
}

/** The entries of a parsed archive TOC, as the check reads them. */
export function checkedEntries(toc: ArchiveToc): TocEntry[] {
  return toc.entries.map((e) => ({
    dumpId: e.dumpId,
    desc: e.desc ?? '',
    namespace: e.namespace === '' ? null : e.namespace,
    tag: e.tag ?? '',
    owner: e.owner,
    defn: e.defn ?? '',
  }));
}

/** Parses the header and table of contents of a pg_dump custom-format archive (its first bytes). */
export function parseArchiveToc(buf: Buffer): TocEntry[] {
  return checkedEntries(parseToc(buf));
}

/** The table of contents of the archive at `file`: reads from its start only as much as the TOC needs. */
export async function readArchiveToc(file: string): Promise<TocEntry[]> {
  return checkedEntries(await readArchive(file));
}

/** Kinds of entries that belong to a schema and may be replayed when they are in the tenant's. */
const SCHEMA_OBJECT_KINDS = new Set([
  'TABLE', 'TABLE DATA', 'TABLE ATTACH', 'FOREIGN TABLE', 'VIEW', 'MATERIALIZED VIEW', 'MATERIALIZED VIEW DATA',
  'SEQUENCE', 'SEQUENCE SET', 'SEQUENCE OWNED BY', 'DEFAULT', 'INDEX', 'INDEX ATTACH', 'CONSTRAINT',
  'CHECK CONSTRAINT', 'FK CONSTRAINT', 'TRIGGER', 'RULE', 'POLICY', 'ROW SECURITY', 'FUNCTION', 'PROCEDURE',
  'AGGREGATE', 'TYPE', 'SHELL TYPE', 'DOMAIN', 'COLLATION', 'CONVERSION', 'OPERATOR', 'OPERATOR CLASS',
  'OPERATOR FAMILY', 'TEXT SEARCH PARSER', 'TEXT SEARCH TEMPLATE', 'TEXT SEARCH DICTIONARY',
  'TEXT SEARCH CONFIGURATION', 'STATISTICS', 'STATISTICS DATA', 'COMMENT', 'ACL', 'DEFAULT ACL', 'SECURITY LABEL',
]);

// The archive's session settings (no namespace), accepted only with the exact SQL pg_dump writes.
const SETTINGS: Record<string, RegExp> = {
  ENCODING: /^SET client_encoding = '[A-Za-z0-9_]+';\n$/,
  STDSTRINGS: /^SET standard_conforming_strings = '(on|off)';\n$/,
  SEARCHPATH: /^SELECT pg_catalog\.set_config\('search_path', '', false\);\n$/,
};

/** How a person reads an entry: `EXTENSION plpgsql (entry 3)`, `TABLE "public".evil (entry 12)`. */
export function describeEntry(e: TocEntry): string {
  return `${e.desc} ${e.namespace === null ? '' : `${quoteIdent(e.namespace)}.`}${e.tag} (entry ${e.dumpId})`;
}

function accepted(e: TocEntry, schema: string): boolean {
  if (e.namespace === schema) return SCHEMA_OBJECT_KINDS.has(e.desc);
  if (e.namespace !== null) return false;
  if (e.desc in SETTINGS) return SETTINGS[e.desc]!.test(e.defn);
  // The schema itself, and its comment, ACL and security label (tagged with the name as pg_dump's fmtId writes it).
  if (e.desc === 'SCHEMA') return e.tag === schema;
  if (e.desc === 'COMMENT' || e.desc === 'ACL' || e.desc === 'SECURITY LABEL') {
    return e.tag === `SCHEMA ${schema}` || e.tag === `SCHEMA ${quoteIdent(schema)}`;
  }
  return false;
}

/** The entry ids of `pg_restore --list` output: what pg_restore restores with Strata's options (each line starts `id;`). */
export function listedEntryIds(list: string): Set<number> {
  const ids = new Set<number>();
  for (const line of list.split('\n')) {
    const m = /^(\d+);/.exec(line);
    if (m) ids.add(Number(m[1]));
  }
  return ids;
}

/**
 * Every entry of the TOC that is not the tenant schema's, described for a person; empty when all belong.
 * With `restored` (listedEntryIds of `pg_restore --list`), entries pg_restore skips are not judged: the
 * DATABASE entry every archive carries is replayed only with --create, which Strata never passes. The
 * archive's settings are always judged (pg_restore applies them though --list does not show them). Pure.
 */
export function entriesOutsideSchema(entries: TocEntry[], schema: string, restored?: Set<number>): string[] {
  return entries
    .filter((e) => !restored || restored.has(e.dumpId) || e.desc in SETTINGS)
    .filter((e) => !accepted(e, schema))
    .map(describeEntry);
}
