// Scratch databases (verifications, clones, restores under another schema name): created in the same
// cluster as DATABASE_URL — roles are cluster-wide, so owners and grantees exist — and always dropped.
// Everything here connects as the replay role (replay-role.ts): it creates the scratch database (CREATEDB)
// and owns it, and the roles it is a member of (the tenant objects' owners) may create in it.
//
// What the dump needs besides itself is copied first, so the restore is exact instead of "errors
// tolerated": the live database's extensions, the schema-only definitions of `public` (and of any other
// schema its foreign keys point into), and the rows of the tables those foreign keys reference (with
// the copies' own foreign keys and triggers removed — the scratch copy only has to satisfy the tenant's).
// Relations the replay role may not read (Strata's own tables) are left out: it could not dump them, and
// a tenant's objects never need them. The copies are owned by the replay role (pg_restore --no-owner:
// it cannot give objects to their owners there), with their grants, so tenant owners can use them.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../env.ts';
import { scratchDatabaseName, type ScratchPurpose } from '../domain.ts';
import { quoteIdent, quoteLiteral } from '../db/ident.ts';
import { readArchiveToc } from './archive-toc.ts';
import { InvalidDumpError } from './errors.ts';
import { archiveLockNeed, fitsOneTransaction, lockBudget } from './lock-budget.ts';
import { applyScript } from './psql.ts';
import { replayRole, type ReplayRole } from './replay-role.ts';
import { writeSchemaFirstLists } from './schema-first.ts';
import { PgConnection } from '../process/child-env.ts';
import { redactSecrets } from '../process/redact.ts';
import { runTool, startTool } from '../process/tool-process.ts';
import { TOOLS } from '../process/system-tools.ts';

export interface ScratchDatabase {
  name: string;
  /** The scratch database as the replay role. */
  url: string;
  role: ReplayRole;
  drop(): Promise<void>;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/** A short-lived client of the replay (application_name strata-restore), always closed. */
export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'strata-restore' });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * `strata_verify_<verification id>_<12 hex>` / `strata_clone_<restore id>_<12 hex>` (lib/domain.ts
 * scratchDatabaseName): the job's key in the name is its owner mark, by which a worker sweeps the
 * database when a killed job left it (worker/leftovers.ts). Created by the replay role (checked here
 * when not given: a superuser is refused without STRATA_ALLOW_SUPERUSER_RESTORE).
 */
export async function createScratchDatabase(config: Config, purpose: ScratchPurpose, jobKey: string, checkedRole?: ReplayRole): Promise<ScratchDatabase> {
  const role = checkedRole ?? (await replayRole(config));
  const name = scratchDatabaseName(purpose, jobKey, crypto.randomBytes(6).toString('hex'));
  await withClient(role.url, async (c) => {
    // Same encoding and collation as the live database: sort orders and unique indexes behave alike.
    const { rows } = await c.query<{ enc: string; collate: string; ctype: string; provider: string; icu: string | null }>(
      `SELECT pg_encoding_to_char(encoding) AS enc, datcollate AS collate, datctype AS ctype,
              datlocprovider::text AS provider, daticulocale AS icu
       FROM pg_database WHERE datname = current_database()`,
    );
    const d = rows[0]!;
    const icu = d.provider === 'i' && d.icu ? ` LOCALE_PROVIDER icu ICU_LOCALE ${quoteLiteral(d.icu)}` : '';
    await c.query(
      `CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0 ENCODING ${quoteLiteral(d.enc)} ` +
        `LC_COLLATE ${quoteLiteral(d.collate)} LC_CTYPE ${quoteLiteral(d.ctype)}${icu}`,
    );
    // The tenant's schemas are given to their owners (ALTER SCHEMA … OWNER TO), who need CREATE here for
    // that: the roles the replay role is a member of (predefined pg_* roles aside).
    const { rows: owners } = await c.query<{ rolname: string }>(
      `SELECT rolname FROM pg_catalog.pg_roles WHERE rolname <> session_user AND rolname !~ '^pg_'
         AND pg_catalog.pg_has_role(session_user, oid, 'MEMBER') ORDER BY 1`,
    );
    if (owners.length > 0) await c.query(`GRANT CREATE ON DATABASE ${quoteIdent(name)} TO ${owners.map((o) => quoteIdent(o.rolname)).join(', ')}`);
  });
  const url = withDatabase(role.url, name);
  return {
    name,
    url,
    role,
    drop: () => dropScratchDatabase(role.url, name),
  };
}

/**
 * DROP DATABASE … WITH (FORCE), and without FORCE when that is refused: the replay role may not
 * terminate an autovacuum worker that just started in the fresh copy (FORCE requires the rights of
 * pg_terminate_backend over every session), whereas a plain DROP DATABASE cancels autovacuum itself.
 */
export async function dropScratchDatabase(url: string, name: string): Promise<void> {
  await withClient(url, async (c) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
        return;
      } catch (forced) {
        try {
          await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
          return;
        } catch {
          if (attempt === 5) throw forced;
          await new Promise((r) => setTimeout(r, 200 * attempt));
        }
      }
    }
  });
}

const IDENT = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const unquote = (id: string) => (id.startsWith('"') ? id.slice(1, -1).replaceAll('""', '"') : id);

/** Tables outside `schema` that the dump's foreign keys reference, as [schema, table]. */
export async function referencedTables(config: Config, dumpPath: string, schema: string): Promise<[string, string][]> {
  const postData = await runTool(TOOLS.pgRestore, ['--section=post-data', '-f', '-', dumpPath], {
    redact: (t) => redactSecrets(t, config),
  });
  const found = new Map<string, [string, string]>();
  for (const m of postData.matchAll(new RegExp(String.raw`\bREFERENCES (${IDENT})\.(${IDENT})\(`, 'g'))) {
    const s = unquote(m[1]!);
    const t = unquote(m[2]!);
    if (s !== schema) found.set(`${s}.${t}`, [s, t]);
  }
  return [...found.values()];
}

/**
 * Restores the dump (of `schema`) into the scratch database, exactly: extensions, the definitions of
 * `public` and of every schema its foreign keys reference, the referenced rows, then the dump itself in
 * one transaction with --exit-on-error.
 */
export async function restoreIntoScratch(
  config: Config,
  scratch: ScratchDatabase,
  dumpPath: string,
  schema: string,
  signal?: AbortSignal,
  /** Runs once the dump's definitions (pre-data) are in, before its data. */
  afterDefinitions?: () => Promise<void>,
): Promise<void> {
  const redact = (t: string) => redactSecrets(t, config);
  const live = scratch.role.url;
  const workDir = path.dirname(dumpPath);
  const connection = (database?: string) => PgConnection.fromUrl(live, { appName: 'strata-restore', dir: workDir, database });
  const referenced = await referencedTables(config, dumpPath, schema);
  const otherSchemas = [...new Set(['public', ...referenced.map(([s]) => s)])];
  const { extensions, unreadable } = await withClient(live, async (c) => ({
    extensions: (
      await c.query<{ name: string; schema: string; version: string }>(
        `SELECT e.extname AS name, n.nspname AS schema, e.extversion AS version
         FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql' ORDER BY e.oid`,
      )
    ).rows,
    unreadable: (
      await c.query<{ schema: string; name: string }>(
        `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT has_table_privilege(c.oid, 'SELECT')`,
        [otherSchemas],
      )
    ).rows,
  }));
  const setup = [
    ...extensions.map(
      (e) =>
        `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(e.schema)};\n` +
        `CREATE EXTENSION IF NOT EXISTS ${quoteIdent(e.name)} WITH SCHEMA ${quoteIdent(e.schema)} VERSION ${quoteLiteral(e.version)};`,
    ),
  ];
  // The definitions go through a custom-format archive so that the CREATE SCHEMA entries of schemas the
  // scratch database already has (public, extension schemas) can be left out of the list.
  const definitionsPath = path.join(workDir, 'definitions.pgdump');
  const dumpArgs = [
    '-Fc', '--schema-only', '--no-comments', '--no-password', '-f', definitionsPath,
    ...otherSchemas.flatMap((s) => ['-n', quoteIdent(s)]),
    ...unreadable.flatMap((r) => ['-T', `${quoteIdent(r.schema)}.${quoteIdent(r.name)}`]),
  ];
  await runTool(TOOLS.pgDump, dumpArgs, { connection: connection(), redact, signal });
  const toc = await runTool(TOOLS.pgRestore, ['--list', definitionsPath], { redact, signal });
  const listPath = path.join(workDir, 'definitions.list');
  await fs.promises.writeFile(listPath, toc.split('\n').filter((l) => !/^\d+; \d+ \d+ SCHEMA - /.test(l)).join('\n'));
  const definitions = () =>
    startTool(TOOLS.pgRestore, ['--no-owner', '-L', listPath, '-f', '-', definitionsPath], { stdin: 'ignore', redact, signal });
  const createSchemas = otherSchemas.map((s) => `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(s)};`);
  const inList = otherSchemas.map(quoteLiteral).join(', ');
  const loosen = `
DO $strata$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.conrelid::regclass AS rel, c.conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
           WHERE n.nspname IN (${inList}) AND c.contype = 'f' LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.rel, r.conname);
  END LOOP;
  FOR r IN SELECT DISTINCT t.tgrelid::regclass AS rel FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN (${inList}) AND NOT t.tgisinternal AND c.relkind = 'r' LOOP
    EXECUTE format('ALTER TABLE %s DISABLE TRIGGER USER', r.rel);
  END LOOP;
END
$strata$;`;
  const rows = () =>
    startTool(
      TOOLS.pgDump,
      ['--data-only', '--no-password', '--strict-names', ...referenced.flatMap(([s, t]) => ['-t', `${quoteIdent(s)}.${quoteIdent(t)}`])],
      { connection: connection(), stdin: 'ignore', redact, signal },
    );
  await applyScript({
    config,
    url: scratch.url,
    dir: workDir,
    parts: [...createSchemas, ...setup, definitions, loosen, ...(referenced.length ? [rows] : [])],
    signal,
  });
  // The schema and its grants first (schema-first.ts); then pre-data, so that the functions exist and a
  // caller's refusal (text references) comes before the data is loaded. Each step is one transaction
  // with --exit-on-error, unless the tenant is too large for one transaction on this server's lock
  // table (lock-budget.ts): a scratch database is dropped on any failure, so it needs no atomicity,
  // and the entries then commit one by one.
  const lists = await writeSchemaFirstLists(dumpPath, workDir);
  const oneTransaction = fitsOneTransaction(archiveLockNeed((await readArchiveToc(dumpPath)).entries), await lockBudget(live));
  const steps: { list: string; args: string[]; then?: () => Promise<void> }[] = [
    { list: lists.head, args: [] },
    ...(afterDefinitions
      ? [
          { list: lists.tail, args: ['--section=pre-data'], then: afterDefinitions },
          { list: lists.tail, args: ['--section=data', '--section=post-data'] },
        ]
      : [{ list: lists.tail, args: [] }]),
  ];
  for (const step of steps) {
    try {
      const atomic = oneTransaction ? ['--single-transaction'] : [];
      await runTool(TOOLS.pgRestore, ['--exit-on-error', ...atomic, '--no-password', '-L', step.list, ...step.args, '-d', scratch.name, dumpPath], {
        connection: connection(scratch.name),
        redact,
        signal,
      });
    } catch (err) {
      throw new InvalidDumpError(`the dump does not restore into a scratch database: ${(err as Error).message}`, { cause: err });
    }
    await step.then?.();
  }
}
