// pg_dump exactly as CONTRACTS.md "Backup" says: `pg_dump -Fc -Z0 --strict-names -n '"<schema>"'`.
// The schema goes in as an exact quoted pattern (`-n` takes a pattern: a bare `a*` would dump every
// schema starting with "a"), the connection through PG* environment variables — never the URL in argv,
// where `ps` would show the password.
import pg from 'pg';
import type { Config } from '../env.ts';
import { TOOLS } from '../services/system-tools.ts';
import { redactSecrets } from './redact.ts';
import { runTool, startTool, type ToolProcess } from './tool-process.ts';

/** `"name"` with inner `"` doubled: a pattern that matches exactly this schema and nothing else. */
export function exactSchemaPattern(schemaName: string): string {
  return `"${schemaName.replaceAll('"', '""')}"`;
}

export function pgDumpArgs(schemaName: string): string[] {
  return ['-Fc', '-Z0', '--strict-names', '-n', exactSchemaPattern(schemaName)];
}

/** URL query parameters that libpq also reads from the environment. */
const QUERY_ENV: Record<string, string> = {
  host: 'PGHOST',
  port: 'PGPORT',
  user: 'PGUSER',
  password: 'PGPASSWORD',
  dbname: 'PGDATABASE',
  sslmode: 'PGSSLMODE',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  sslrootcert: 'PGSSLROOTCERT',
  sslcrl: 'PGSSLCRL',
  application_name: 'PGAPPNAME',
  connect_timeout: 'PGCONNECT_TIMEOUT',
  options: 'PGOPTIONS',
  target_session_attrs: 'PGTARGETSESSIONATTRS',
  passfile: 'PGPASSFILE',
};

/** PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE (and the libpq options in the query) of a postgres:// URL. */
export function pgConnectionEnv(url: string): Record<string, string> {
  const u = new URL(url);
  const env: Record<string, string> = {};
  const decode = (s: string) => decodeURIComponent(s);
  if (u.hostname) env.PGHOST = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (u.port) env.PGPORT = u.port;
  if (u.username) env.PGUSER = decode(u.username);
  if (u.password) env.PGPASSWORD = decode(u.password);
  const database = decode(u.pathname.replace(/^\//, ''));
  if (database) env.PGDATABASE = database;
  for (const [param, value] of u.searchParams) {
    const name = QUERY_ENV[param];
    if (name) env[name] = value;
  }
  return env;
}

/**
 * A program's environment: ours without inherited PG* settings, plus the connection of `url`
 * (`database` instead of the URL's on request), and the application name the server shows.
 */
export function pgProgramEnv(url: string, appName: string, database?: string): Record<string, string | undefined> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG')));
  return { ...inherited, ...pgConnectionEnv(url), PGAPPNAME: appName, ...(database ? { PGDATABASE: database } : {}) };
}

/**
 * Starts pg_dump of one schema; its stdout is the custom-format archive. stdin is closed, and
 * --no-password: a missing password fails the backup with pg_dump's message instead of a prompt.
 */
export function startPgDump(config: Config, schemaName: string): ToolProcess {
  return startTool(TOOLS.pgDump, [...pgDumpArgs(schemaName), '--no-password'], {
    env: pgProgramEnv(config.sourceUrl, 'strata-backup'),
    stdin: 'ignore',
    redact: (text) => redactSecrets(text, config),
  });
}

let pgDumpVersionCache: Promise<string> | undefined;

/** `pg_dump --version` without the program name: e.g. `15.18 (Debian 15.18-0+deb12u1)`. */
export function pgDumpVersion(): Promise<string> {
  pgDumpVersionCache ??= runTool(TOOLS.pgDump, ['--version']).then((out) =>
    out.trim().replace(/^pg_dump \(PostgreSQL\)\s*/, ''),
  );
  pgDumpVersionCache.catch(() => {
    pgDumpVersionCache = undefined;
  });
  return pgDumpVersionCache;
}

/** The source server's `server_version` (what the dump was taken from). Errors are redacted. */
export async function serverVersion(config: Config): Promise<string> {
  const client = new pg.Client({ connectionString: config.sourceUrl, application_name: 'strata-backup' });
  client.on('error', () => {});
  try {
    await client.connect();
    const res = await client.query<{ server_version: string }>('show server_version');
    return res.rows[0]!.server_version;
  } catch (err) {
    throw new Error(`cannot read the source server's version: ${redactSecrets((err as Error).message, config)}`);
  } finally {
    await client.end().catch(() => {});
  }
}
