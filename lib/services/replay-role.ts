// The roles of a cluster Strata set up itself (`npm run services`, the demo, the tests), shaped like
// the README asks of a production database ("Pointing Strata at an existing SaaS database"):
//   saas_app        NOLOGIN: the SaaS application's role, owner of every tenant schema and its objects
//   strata_restore  LOGIN, CREATEDB, BYPASSRLS, not a superuser, a member of saas_app: the replay role
//                   (STRATA_RESTORE_DATABASE_URL); no privileges on Strata's own tables.
// Roles are cluster-wide and test files share a cluster: the DDL runs one session at a time, under an
// advisory lock taken in the `postgres` database (advisory locks are per database).
import pg from 'pg';
import { quoteIdent, quoteLiteral } from '../db/ident.ts';

/** Owner of the tenant schemas in clusters Strata set up. */
export const TENANT_OWNER_ROLE = 'saas_app';

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/** Runs fn on a superuser connection to `postgres`, holding the cluster-wide role-DDL lock. */
export async function withClusterLock<T>(adminUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: withDatabase(adminUrl, 'postgres') });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(`SELECT pg_advisory_lock(hashtext('strata.cluster-roles'))`);
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** CREATE ROLE unless it exists (call under withClusterLock). */
export async function ensureRole(c: pg.Client, role: string, attributes: string): Promise<void> {
  const { rowCount } = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  if (!rowCount) await c.query(`CREATE ROLE ${quoteIdent(role)} ${attributes}`);
}

/** GRANT group TO member unless it already is one (call under withClusterLock). */
export async function ensureMember(c: pg.Client, group: string, member: string): Promise<void> {
  const { rows } = await c.query<{ m: boolean }>(`SELECT pg_has_role($1::text, $2::text, 'MEMBER') AS m`, [member, group]);
  if (!rows[0]!.m) await c.query(`GRANT ${quoteIdent(group)} TO ${quoteIdent(member)}`);
}

export interface ReplayRoleSetup {
  /** The login role to create (or update: its password, its attributes). */
  role: string;
  password: string;
  /** The database Strata backs up: the tenant owner may create schemas in it. */
  database: string;
  /** Roles owning tenant objects besides saas_app (created NOLOGIN when missing). */
  alsoMemberOf?: string[];
}

/**
 * Creates saas_app and the replay role in the cluster of `adminUrl` (a superuser URL) and returns the
 * replay role's URL of `database` (for STRATA_RESTORE_DATABASE_URL). Idempotent.
 */
export async function provisionReplayRole(adminUrl: string, setup: ReplayRoleSetup): Promise<string> {
  const attributes = `LOGIN NOSUPERUSER CREATEDB BYPASSRLS NOCREATEROLE INHERIT PASSWORD ${quoteLiteral(setup.password)}`;
  await withClusterLock(adminUrl, async (c) => {
    await ensureRole(c, TENANT_OWNER_ROLE, 'NOLOGIN');
    await ensureRole(c, setup.role, attributes);
    await c.query(`ALTER ROLE ${quoteIdent(setup.role)} ${attributes}`);
    for (const group of [TENANT_OWNER_ROLE, ...(setup.alsoMemberOf ?? [])]) {
      await ensureRole(c, group, 'NOLOGIN');
      await ensureMember(c, group, setup.role);
    }
    // ALTER SCHEMA … OWNER TO saas_app (every restored schema) needs saas_app to have CREATE here.
    await c.query(`GRANT CREATE ON DATABASE ${quoteIdent(setup.database)} TO ${quoteIdent(TENANT_OWNER_ROLE)}`);
  });
  const u = new URL(withDatabase(adminUrl, setup.database));
  u.username = encodeURIComponent(setup.role);
  u.password = encodeURIComponent(setup.password);
  return u.toString();
}
