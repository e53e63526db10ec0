// What a dump may contain before anything of it is replayed (issue 13): only the tenant's source schema
// — the schema itself, its objects and their data, comments, ACLs and default ACLs. Any other entry
// (another schema's objects, EXTENSION, DATABASE, publications, event triggers, large objects, casts,
// foreign servers …) refuses the restore or verification with the entry named.
//
// The table of contents is read from the archive itself (pg_dump's custom format, the same fields
// pg_restore's ReadHead/ReadToc read) rather than from `pg_restore --list`: --list prints names
// unquoted and space-separated, so a schema, tag or owner with spaces cannot be told apart there.
// Here every string is length-prefixed and compared exactly.
//
// This classifies entries; it cannot judge the SQL inside an entry (a forged "TABLE" entry may hold any
// statement). That is what the manifest signature is for: a dump is read only once its signed manifest
// and its sha256 agree. The check is a second wall against a genuine dump holding more than the tenant.
import fs from 'node:fs';
import { quoteIdent } from '../db/ident.ts';

export interface TocEntry {
  dumpId: number;
  desc: string;
  /** null: an object outside any schema (SCHEMA, EXTENSION, DATABASE, the archive's settings …). */
  namespace: string | null;
  tag: string;
  owner: string | null;
  defn: string;
}

class ShortArchiveError extends Error {}

// Archive versions (major, minor, rev) as pg_backup_archiver.h's K_VERS_* numbers.
const v = (maj: number, min: number, rev = 0) => (maj * 256 + min) * 256 + rev;
const K_1_2 = v(1, 2), K_1_3 = v(1, 3), K_1_4 = v(1, 4), K_1_5 = v(1, 5), K_1_6 = v(1, 6), K_1_7 = v(1, 7);
const K_1_8 = v(1, 8), K_1_9 = v(1, 9), K_1_10 = v(1, 10), K_1_11 = v(1, 11), K_1_12 = v(1, 12);
const K_1_14 = v(1, 14), K_1_15 = v(1, 15), K_1_16 = v(1, 16);
const CUSTOM_FORMAT = 1;

/** Parses the header and table of contents of a pg_dump custom-format archive (its first bytes). */
export function parseArchiveToc(buf: Buffer): TocEntry[] {
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > buf.length) throw new ShortArchiveError();
  };
  const byte = () => {
    need(1);
    return buf[pos++]!;
  };
  if (buf.length < 5) throw new ShortArchiveError();
  if (buf.subarray(0, 5).toString('latin1') !== 'PGDMP') throw new Error('not a pg_dump custom-format archive (no PGDMP header)');
  pos = 5;
  const vmaj = byte();
  const vmin = byte();
  const vrev = vmaj > 1 || (vmaj === 1 && vmin > 0) ? byte() : 0;
  const version = v(vmaj, vmin, vrev);
  if (version < K_1_12 || vmaj !== 1) throw new Error(`archive version ${vmaj}.${vmin}.${vrev} is not supported (1.12 or later: pg_dump 9.5+)`);
  const intSize = byte();
  const offSize = byte();
  if (intSize < 1 || intSize > 8 || offSize < 1 || offSize > 8) throw new Error('archive header is corrupt (integer sizes)');
  const format = byte();
  if (format !== CUSTOM_FORMAT) throw new Error(`archive format ${format} is not pg_dump's custom format (-Fc)`);
  const int = () => {
    const negative = byte() !== 0;
    need(intSize);
    let n = 0;
    for (let i = 0; i < intSize; i++) n += buf[pos + i]! * 2 ** (8 * i);
    pos += intSize;
    return negative ? -n : n;
  };
  const str = (): string | null => {
    const len = int();
    if (len < 0) return null;
    need(len);
    const s = buf.toString('utf8', pos, pos + len);
    pos += len;
    return s;
  };
  if (version >= K_1_15) byte(); // compression algorithm
  else if (version >= K_1_4) int(); // compression level
  else if (version >= K_1_2) byte();
  if (version >= K_1_4) {
    for (let i = 0; i < 7; i++) int(); // creation time
    str(); // database name
  }
  if (version >= K_1_10) {
    str(); // server version
    str(); // pg_dump version
  }

  const count = int();
  if (count < 0 || count > 10_000_000) throw new Error('archive TOC is corrupt (entry count)');
  const entries: TocEntry[] = [];
  for (let i = 0; i < count; i++) {
    const dumpId = int();
    if (dumpId <= 0) throw new Error('archive TOC is corrupt (entry id)');
    int(); // had dumper
    if (version >= K_1_8) str(); // catalog table oid
    str(); // oid
    const tag = str() ?? '';
    const desc = str() ?? '';
    if (version >= K_1_11) int(); // section
    const defn = str() ?? '';
    str(); // drop statement
    if (version >= K_1_3) str(); // copy statement
    const namespace = version >= K_1_6 ? str() : null;
    if (version >= K_1_10) str(); // tablespace
    if (version >= K_1_14) str(); // table access method
    if (version >= K_1_16) int(); // relkind
    const owner = str();
    if (version >= K_1_9) str(); // "with oids"
    if (version >= K_1_5) while (str() !== null); // dependencies, NULL-terminated
    // The custom format's own per-entry data: a flag byte and the data offset.
    if (version >= K_1_7) {
      byte();
      need(offSize);
      pos += offSize;
    } else int();
    entries.push({ dumpId, desc, namespace: namespace === '' ? null : namespace, tag, owner, defn });
  }
  return entries;
}

/** The table of contents of the archive at `file`: reads from its start only as much as the TOC needs. */
export async function readArchiveToc(file: string): Promise<TocEntry[]> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    for (let length = 1024 * 1024; ; length *= 4) {
      const want = Math.min(length, size);
      const buf = Buffer.alloc(want);
      const { bytesRead } = await handle.read(buf, 0, want, 0);
      try {
        return parseArchiveToc(buf.subarray(0, bytesRead));
      } catch (err) {
        if (!(err instanceof ShortArchiveError)) throw err;
        if (want >= size || length >= 1024 * 1024 * 1024) throw new Error('archive ends inside its table of contents');
      }
    }
  } finally {
    await handle.close();
  }
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
