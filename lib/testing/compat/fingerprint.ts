// The compatibility suite's fingerprint of one schema: everything a restore must carry exactly, in a
// form that compares with deepEqual and shows *what* differs. Two views of the same catalog:
// a schema-only pg_dump (what pg_restore will replay) and direct catalog reads (what pg_dump might
// leave implicit: ACL arrays, default privileges, RLS flags, owners, comments, sequence states),
// plus every table's rows hashed in a stable order. The schema's own name is replaced by <SCHEMA>
// everywhere, so a clone or a moved-aside copy compares equal to the schema it was made from.
import pg from 'pg';
import { quoteIdent } from '../../db/ident.ts';
import os from 'node:os';
import { PgConnection } from '../../process/child-env.ts';
import { runTool } from '../../process/tool-process.ts';
import { TOOLS } from '../../process/system-tools.ts';

export interface SchemaFingerprint {
  /** Schema-only pg_dump of the schema (header lines and the random \restrict key removed). */
  ddl: string;
  schema: { owner: string; acl: string | null; comment: string | null };
  /** pg_default_acl entries IN SCHEMA this one: role, object type, sorted aclitems. */
  defaultPrivileges: string[];
  relations: Record<string, Record<string, unknown>>;
  columns: Record<string, Record<string, unknown>>;
  constraints: string[];
  indexes: string[];
  triggers: string[];
  policies: string[];
  functions: Record<string, Record<string, unknown>>;
  types: Record<string, Record<string, unknown>>;
  inheritance: string[];
  sequences: Record<string, { last_value: string; is_called: boolean; definition: string }>;
  /** Row count and md5 of the sorted row hashes of every table (ONLY that table) and populated matview. */
  rows: Record<string, { count: number; hash: string }>;
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'strata-test-fingerprint' });
  await client.connect();
  try {
    // Empty search_path: every name pg_get_*def prints is schema-qualified, hence normalisable.
    await client.query(`SET search_path = ''`);
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** `text` with the schema's name (quoted form first, then bare) replaced by <SCHEMA>. */
export function normaliseSchemaName(text: string, schema: string): string {
  return text.split(quoteIdent(schema)).join('<SCHEMA>').split(schema).join('<SCHEMA>');
}

function normaliseDeep<T>(value: T, schema: string): T {
  if (typeof value === 'string') return normaliseSchemaName(value, schema) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => normaliseDeep(v, schema)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [normaliseSchemaName(k, schema), normaliseDeep(v, schema)]),
    ) as T;
  }
  return value;
}

// Sorted aclexplode() items: an ACL's meaning, independent of the order PostgreSQL stored it in.
const ACL = (expr: string) => `(SELECT string_agg(x, ', ' ORDER BY x) FROM (SELECT
    CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || ':' || a.privilege_type ||
    CASE WHEN a.is_grantable THEN '*' ELSE '' END || ' by ' || pg_get_userbyid(a.grantor) AS x
  FROM aclexplode(${expr}) a) items)`;

const byKey = (rows: { key: string }[]) => Object.fromEntries(rows.map(({ key, ...rest }) => [key, rest]));

async function catalog(c: pg.Client, schema: string) {
  const q = async <R extends pg.QueryResultRow>(text: string) => (await c.query<R>(text, [schema])).rows;
  const ns = `(SELECT oid FROM pg_namespace WHERE nspname = $1)`;
  const [nsp] = await q<SchemaFingerprint['schema']>(
    `SELECT pg_get_userbyid(nspowner) AS owner, ${ACL('nspacl')} AS acl, obj_description(oid, 'pg_namespace') AS comment
     FROM pg_namespace WHERE nspname = $1`,
  );
  if (!nsp) throw new Error(`schema ${JSON.stringify(schema)} does not exist`);
  const defaultPrivileges = (
    await q<{ d: string }>(
      `SELECT pg_get_userbyid(defaclrole) || ' ' || defaclobjtype::text || ': ' || coalesce(${ACL('defaclacl')}, '') AS d
       FROM pg_default_acl WHERE defaclnamespace = ${ns} ORDER BY 1`,
    )
  ).map((r) => r.d);
  const relations = byKey(
    await q<{ key: string }>(
      `SELECT c.relname AS key, c.relkind, pg_get_userbyid(c.relowner) AS owner, ${ACL('c.relacl')} AS acl,
              c.relrowsecurity AS rls, c.relforcerowsecurity AS force_rls, c.relispopulated AS populated,
              c.relpersistence AS persistence, c.reloptions::text AS options, c.relispartition AS partition,
              pg_get_expr(c.relpartbound, c.oid) AS bound, obj_description(c.oid, 'pg_class') AS comment
       FROM pg_class c WHERE c.relnamespace = ${ns} ORDER BY 1`,
    ),
  );
  const columns = byKey(
    await q<{ key: string }>(
      `SELECT c.relname || '.' || a.attname AS key, a.attnum AS num, format_type(a.atttypid, a.atttypmod) AS type,
              a.attnotnull AS not_null, a.attidentity AS identity, a.attgenerated AS generated,
              pg_get_expr(d.adbin, d.adrelid) AS default, ${ACL('a.attacl')} AS acl,
              col_description(c.oid, a.attnum) AS comment, a.attislocal AS local, a.attinhcount AS inherited
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE c.relnamespace = ${ns} AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1`,
    ),
  );
  const constraints = (
    await q<{ d: string }>(
      `SELECT coalesce(r.relname, t.typname) || ' ' || co.conname || ': ' || pg_get_constraintdef(co.oid) ||
              ' deferrable=' || co.condeferrable || ' deferred=' || co.condeferred || ' valid=' || co.convalidated ||
              ' comment=' || coalesce(obj_description(co.oid, 'pg_constraint'), '-') AS d
       FROM pg_constraint co LEFT JOIN pg_class r ON r.oid = co.conrelid LEFT JOIN pg_type t ON t.oid = co.contypid
       WHERE co.connamespace = ${ns} ORDER BY 1`,
    )
  ).map((r) => r.d);
  const indexes = (
    await q<{ d: string }>(
      `SELECT pg_get_indexdef(i.indexrelid) || ' valid=' || i.indisvalid AS d FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = ${ns} ORDER BY 1`,
    )
  ).map((r) => r.d);
  const triggers = (
    await q<{ d: string }>(
      `SELECT pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text AS d FROM pg_trigger t
       JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = ${ns} AND NOT t.tgisinternal ORDER BY 1`,
    )
  ).map((r) => r.d);
  const policies = (
    await q<{ d: string }>(
      `SELECT c.relname || ' ' || p.polname || ' cmd=' || p.polcmd::text || ' permissive=' || p.polpermissive ||
              ' to=' || (SELECT string_agg(x, ',' ORDER BY x) FROM (SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r) END AS x FROM unnest(p.polroles) r) roles) ||
              ' using=' || coalesce(pg_get_expr(p.polqual, p.polrelid), '-') ||
              ' check=' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '-') AS d
       FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = ${ns} ORDER BY 1`,
    )
  ).map((r) => r.d);
  const functions = byKey(
    await q<{ key: string }>(
      `SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS key, pg_get_userbyid(p.proowner) AS owner,
              ${ACL('p.proacl')} AS acl, pg_get_functiondef(p.oid) AS definition, obj_description(p.oid, 'pg_proc') AS comment
       FROM pg_proc p WHERE p.pronamespace = ${ns} ORDER BY 1`,
    ),
  );
  const types = byKey(
    await q<{ key: string }>(
      `SELECT t.typname AS key, t.typtype AS kind, pg_get_userbyid(t.typowner) AS owner, ${ACL('t.typacl')} AS acl,
              obj_description(t.oid, 'pg_type') AS comment,
              (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) AS labels,
              CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base
       FROM pg_type t WHERE t.typnamespace = ${ns} AND NOT EXISTS (SELECT FROM pg_type e WHERE e.typarray = t.oid) ORDER BY 1`,
    ),
  );
  const inheritance = (
    await q<{ d: string }>(
      `SELECT c.relname || ' inherits ' || p.relname || ' #' || i.inhseqno AS d FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE c.relnamespace = ${ns} ORDER BY 1`,
    )
  ).map((r) => r.d);
  return { schema: nsp, defaultPrivileges, relations, columns, constraints, indexes, triggers, policies, functions, types, inheritance };
}

async function sequencesAndRows(c: pg.Client, schema: string) {
  const rels = (
    await c.query<{ relname: string; relkind: string; relispopulated: boolean }>(
      `SELECT c.relname, c.relkind, c.relispopulated FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind IN ('r', 'm', 'S') ORDER BY c.relname`,
      [schema],
    )
  ).rows;
  const sequences: SchemaFingerprint['sequences'] = {};
  const rows: SchemaFingerprint['rows'] = {};
  for (const r of rels) {
    const rel = `${quoteIdent(schema)}.${quoteIdent(r.relname)}`;
    if (r.relkind === 'S') {
      const [state] = (await c.query<{ last_value: string; is_called: boolean }>(`SELECT last_value::text, is_called FROM ${rel}`)).rows;
      const [def] = (
        await c.query<{ d: string }>(
          `SELECT format('%s start=%s inc=%s min=%s max=%s cache=%s cycle=%s', format_type(seqtypid, NULL), seqstart, seqincrement,
                  seqmin, seqmax, seqcache, seqcycle) AS d FROM pg_sequence WHERE seqrelid = $1::regclass`,
          [rel],
        )
      ).rows;
      sequences[r.relname] = { ...state!, definition: def!.d };
      continue;
    }
    if (r.relkind === 'm' && !r.relispopulated) continue;
    const [res] = (
      await c.query<{ count: string; hash: string | null }>(
        `SELECT count(*) AS count, md5(string_agg(h, '' ORDER BY h)) AS hash FROM (SELECT md5(t::text) AS h FROM ONLY ${rel} t) x`,
      )
    ).rows;
    rows[r.relname] = { count: Number(res!.count), hash: res!.hash ?? '' };
  }
  return { sequences, rows };
}

async function schemaOnlyDump(url: string, schema: string): Promise<string> {
  const dump = await runTool(TOOLS.pgDump, ['-s', '--no-password', '--strict-names', '-n', quoteIdent(schema)], {
    connection: PgConnection.fromUrl(url, { appName: 'strata-test-fingerprint', dir: os.tmpdir() }),
  });
  return dump
    .split('\n')
    .filter((l) => !/^-- Dumped (from|by)/.test(l) && !/^\\(un)?restrict /.test(l))
    .join('\n');
}

/** The fingerprint of `schema` in the database at `url`, its own name normalised to <SCHEMA>. */
export async function schemaFingerprint(url: string, schema: string): Promise<SchemaFingerprint> {
  // pg_dump is a process of its own: it runs while the catalog is read.
  const [ddl, fp] = await Promise.all([
    schemaOnlyDump(url, schema),
    withClient(url, async (c) => ({ ...(await catalog(c, schema)), ...(await sequencesAndRows(c, schema)) })),
  ]);
  return normaliseDeep({ ddl, ...fp }, schema);
}
