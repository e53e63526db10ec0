// What the catalog says before a restore moves a schema or copies one under another name.
import { sql } from 'drizzle-orm';
import pg from 'pg';
import type { Db } from '../db/client.ts';
import { quoteIdent, quoteLiteral } from '../db/ident.ts';

export async function schemaExists(db: Db, name: string): Promise<boolean> {
  const res = await db.execute<{ exists: boolean }>(sql`select exists (select from pg_namespace where nspname = ${name}) as exists`);
  return res.rows[0]?.exists === true;
}

// The schema an object of any catalog lives in (rules, triggers, defaults and policies: their table's;
// an operator family's operators and support functions: the family's;
// ALTER DEFAULT PRIVILEGES … IN SCHEMA entries: that schema's — they are the schema's own, pg_dump
// carries them with it and a rename keeps them on the moved-aside copy; global entries have none).
const OBJECT_SCHEMA = (cls: string, oid: string) => `CASE ${cls}
  WHEN 'pg_class'::regclass THEN (SELECT relnamespace FROM pg_class WHERE oid = ${oid})
  WHEN 'pg_type'::regclass THEN (SELECT typnamespace FROM pg_type WHERE oid = ${oid})
  WHEN 'pg_proc'::regclass THEN (SELECT pronamespace FROM pg_proc WHERE oid = ${oid})
  WHEN 'pg_constraint'::regclass THEN (SELECT connamespace FROM pg_constraint WHERE oid = ${oid})
  WHEN 'pg_operator'::regclass THEN (SELECT oprnamespace FROM pg_operator WHERE oid = ${oid})
  WHEN 'pg_collation'::regclass THEN (SELECT collnamespace FROM pg_collation WHERE oid = ${oid})
  WHEN 'pg_conversion'::regclass THEN (SELECT connamespace FROM pg_conversion WHERE oid = ${oid})
  WHEN 'pg_opclass'::regclass THEN (SELECT opcnamespace FROM pg_opclass WHERE oid = ${oid})
  WHEN 'pg_opfamily'::regclass THEN (SELECT opfnamespace FROM pg_opfamily WHERE oid = ${oid})
  WHEN 'pg_statistic_ext'::regclass THEN (SELECT stxnamespace FROM pg_statistic_ext WHERE oid = ${oid})
  WHEN 'pg_ts_config'::regclass THEN (SELECT cfgnamespace FROM pg_ts_config WHERE oid = ${oid})
  WHEN 'pg_ts_dict'::regclass THEN (SELECT dictnamespace FROM pg_ts_dict WHERE oid = ${oid})
  WHEN 'pg_namespace'::regclass THEN ${oid}
  WHEN 'pg_rewrite'::regclass THEN (SELECT c.relnamespace FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class WHERE r.oid = ${oid})
  WHEN 'pg_trigger'::regclass THEN (SELECT c.relnamespace FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.oid = ${oid})
  WHEN 'pg_attrdef'::regclass THEN (SELECT c.relnamespace FROM pg_attrdef a JOIN pg_class c ON c.oid = a.adrelid WHERE a.oid = ${oid})
  WHEN 'pg_policy'::regclass THEN (SELECT c.relnamespace FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE p.oid = ${oid})
  WHEN 'pg_amop'::regclass THEN (SELECT f.opfnamespace FROM pg_amop o JOIN pg_opfamily f ON f.oid = o.amopfamily WHERE o.oid = ${oid})
  WHEN 'pg_amproc'::regclass THEN (SELECT f.opfnamespace FROM pg_amproc p JOIN pg_opfamily f ON f.oid = p.amprocfamily WHERE p.oid = ${oid})
  WHEN 'pg_default_acl'::regclass THEN (SELECT NULLIF(defaclnamespace, 0) FROM pg_default_acl WHERE oid = ${oid})
END`;

// A rule is described by its view (what a person knows), everything else by pg_describe_object.
const DESCRIBE = `CASE WHEN d.classid = 'pg_rewrite'::regclass
    THEN (SELECT pg_describe_object('pg_class'::regclass, r.ev_class, 0) FROM pg_rewrite r WHERE r.oid = d.objid)
    ELSE pg_describe_object(d.classid, d.objid, d.objsubid) END`;

/** SELECT dependent, referenced: objects outside the schema (an SQL expression) depending on objects in it. */
function dependentsQuery(schemaExpr: string): string {
  return `
    WITH target AS (SELECT oid FROM pg_namespace WHERE nspname = ${schemaExpr})
    SELECT DISTINCT ${DESCRIBE} AS dependent, pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid) AS referenced
    FROM pg_depend d, target
    WHERE d.deptype IN ('n', 'a')
      AND (${OBJECT_SCHEMA('d.refclassid', 'd.refobjid')}) = target.oid
      AND (${OBJECT_SCHEMA('d.classid', 'd.objid')}) IS DISTINCT FROM target.oid
      AND NOT (d.classid = 'pg_namespace'::regclass)
      -- Members (casts, operator-family entries …) of an extension installed into the schema: the
      -- extension itself is named, and hundreds of member lines would bury it.
      AND NOT EXISTS (SELECT FROM pg_depend m JOIN pg_extension x ON x.oid = m.refobjid
                      WHERE m.classid = d.classid AND m.objid = d.objid AND m.deptype = 'e' AND x.extnamespace = target.oid)`;
}

/**
 * Objects outside `schema` that depend on objects inside it (views, foreign keys, column defaults,
 * functions, publications …): renaming the schema aside would take them along to the old copy.
 */
export async function dependentsOutside(db: Pick<Db, 'execute'>, schema: string): Promise<string[]> {
  const res = await db.execute<{ dependent: string; referenced: string }>(sql.raw(`${dependentsQuery(quoteLiteral(schema))} ORDER BY 1, 2`));
  return res.rows.map((r) => `${r.dependent} (depends on ${r.referenced})`);
}

/**
 * The same check as SQL for the swap's own transaction, right after the rename (on the new name):
 * a dependent created since the check before it still aborts the swap.
 */
export function assertNoDependentsSql(schema: string): string {
  return `DO $strata$
DECLARE found text;
BEGIN
  SELECT string_agg(q.dependent || ' (depends on ' || q.referenced || ')', '; ') INTO found FROM (${dependentsQuery(quoteLiteral(schema))}) q;
  IF found IS NOT NULL THEN
    RAISE EXCEPTION 'strata: objects in other schemas depend on the live schema: %', found;
  END IF;
END
$strata$;`;
}

/** Whether text names the schema: quoted form anywhere, or the bare name as a whole word. */
export function namesSchema(text: string, schema: string): boolean {
  if (text.includes(quoteIdent(schema))) return true;
  if (/^[a-z_][a-z0-9_$]*$/.test(schema)) {
    const esc = schema.replace(/\$/g, '\\$');
    return new RegExp(`(^|[^A-Za-z0-9_$])${esc}($|[^A-Za-z0-9_$])`, 'i').test(text);
  }
  return text.includes(schema);
}

/**
 * Functions in `schema` (of the database at url) whose body or settings (proconfig, e.g. search_path)
 * name the schema in text: a rename cannot rewrite them.
 */
export async function functionsNamingSchema(url: string, schema: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url, application_name: 'strata-restore' });
  // A dropped connection fails the query in flight; unhandled, the 'error' event would kill the process.
  client.on('error', () => {});
  await client.connect();
  try {
    const res = await client.query<{ fn: string; src: string | null; config: string[] | null }>(
      `SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS fn, p.prosrc AS src, p.proconfig AS config
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 ORDER BY 1`,
      [schema],
    );
    return res.rows
      .filter((r) => namesSchema(r.src ?? '', schema) || (r.config ?? []).some((c) => namesSchema(c, schema)))
      .map((r) => r.fn);
  } finally {
    await client.end();
  }
}
