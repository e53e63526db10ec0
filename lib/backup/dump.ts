// pg_dump exactly as docs/design.md "Backup" says: `pg_dump -Fc -Z0 --strict-names -n '"<schema>"'`.
// The schema goes in as an exact quoted pattern (`-n` takes a pattern: a bare `a*` would dump every
// schema starting with "a"), the connection through PG* environment variables and a passfile
// (child-env.ts) — never the URL in argv, where `ps` would show the password.
import pg from 'pg';
import type { Config } from '../env.ts';
import { TOOLS } from '../process/system-tools.ts';
import { PgConnection } from '../process/child-env.ts';
import { redactSecrets } from '../process/redact.ts';
import { runTool, startTool, type ToolProcess } from '../process/tool-process.ts';

/** `"name"` with inner `"` doubled: a pattern that matches exactly this schema and nothing else. */
export function exactSchemaPattern(schemaName: string): string {
  return `"${schemaName.replaceAll('"', '""')}"`;
}

export function pgDumpArgs(schemaName: string): string[] {
  return ['-Fc', '-Z0', '--strict-names', '-n', exactSchemaPattern(schemaName)];
}

/**
 * Starts pg_dump of one schema; its stdout is the custom-format archive. stdin is closed, and
 * --no-password: a missing password fails the backup with pg_dump's message instead of a prompt.
 * `dir`: the backup's private temp dir (its passfile goes there while pg_dump runs).
 */
export function startPgDump(config: Config, schemaName: string, dir: string): ToolProcess {
  return startTool(TOOLS.pgDump, [...pgDumpArgs(schemaName), '--no-password'], {
    connection: PgConnection.fromUrl(config.sourceUrl, { appName: 'strata-backup', dir }),
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
