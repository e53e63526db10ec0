// The environment of every program Strata spawns (pg_dump, pg_restore, psql, zstd, age): an allow-list,
// never the worker's own environment — which holds the S3 and B2 keys, AUTH_SECRET, the OIDC secret and
// DATABASE_URL. A program gets PATH, HOME, the locale (LANG, LC_*) and TZ; a PostgreSQL program also gets
// the PG* variables of the one connection it makes (PgConnection). The password never goes into the
// environment (/proc/<pid>/environ) or argv (`ps`): it is written to a passfile (PGPASSFILE, 0600) in
// the job's private temp dir just before the program starts and removed when it exits.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { processEnv } from '../env.ts';

/** What a program inherits from ours: exactly these names (and LC_*). */
const INHERITED = new Set(['PATH', 'HOME', 'LANG', 'TZ']);

export function baseChildEnv(source: Readonly<Record<string, string | undefined>> = processEnv()): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value !== undefined && (INHERITED.has(name) || name.startsWith('LC_'))) env[name] = value;
  }
  return env;
}

/** URL query parameters that libpq also reads from the environment (the password excepted: passfile). */
const QUERY_ENV: Record<string, string> = {
  host: 'PGHOST',
  port: 'PGPORT',
  user: 'PGUSER',
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

/** The PG* variables of a postgres:// URL (host, port, user, database, libpq options in the query) and its password, apart. */
export function pgConnectionVars(url: string): { vars: Record<string, string>; password?: string } {
  const u = new URL(url);
  const vars: Record<string, string> = {};
  const decode = (s: string) => decodeURIComponent(s);
  if (u.hostname) vars.PGHOST = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (u.port) vars.PGPORT = u.port;
  if (u.username) vars.PGUSER = decode(u.username);
  let password = u.password ? decode(u.password) : undefined;
  const database = decode(u.pathname.replace(/^\//, ''));
  if (database) vars.PGDATABASE = database;
  for (const [param, value] of u.searchParams) {
    if (param === 'password') password = value;
    const name = QUERY_ENV[param];
    if (name) vars[name] = value;
  }
  return { vars, password };
}

/** A passfile line matching any host, port and database: `\` and `:` escaped as libpq reads them. */
export function passfileLine(user: string | undefined, password: string): string {
  const esc = (s: string) => s.replaceAll('\\', '\\\\').replaceAll(':', '\\:');
  return `*:*:*:${user ? esc(user) : '*'}:${esc(password)}\n`;
}

/**
 * One database connection for one PostgreSQL program. Only this module makes them (the constructor is
 * private), so a program's PG* variables always come from a URL, never from an inherited environment.
 */
export class PgConnection {
  private constructor(
    private readonly vars: Readonly<Record<string, string>>,
    private readonly password: string | undefined,
    /** The job's private temp dir, where the passfile lives while the program runs. */
    readonly dir: string,
  ) {}

  /** `database` replaces the URL's; `appName` is what pg_stat_activity shows. */
  static fromUrl(url: string, options: { appName: string; dir: string; database?: string }): PgConnection {
    const { vars, password } = pgConnectionVars(url);
    const all = { ...vars, PGAPPNAME: options.appName, ...(options.database ? { PGDATABASE: options.database } : {}) };
    return new PgConnection(Object.freeze(all), password, options.dir);
  }

  /**
   * The program's environment: the base allow-list, the connection's PG* variables, and PGPASSFILE
   * pointing at a fresh 0600 passfile (when the URL has a password). Call remove() once it exited.
   */
  prepare(): { env: Record<string, string>; passfile: string | null; remove: () => void } {
    const env = { ...baseChildEnv(), ...this.vars };
    if (this.password === undefined) return { env, passfile: null, remove: () => {} };
    const passfile = path.join(this.dir, `pgpass-${crypto.randomBytes(6).toString('hex')}`);
    // 'wx': a file planted under that name is never reused; 0600 or libpq ignores the file.
    fs.writeFileSync(passfile, passfileLine(this.vars.PGUSER, this.password), { mode: 0o600, flag: 'wx' });
    env.PGPASSFILE = passfile;
    return { env, passfile, remove: () => fs.rmSync(passfile, { force: true }) };
  }
}
