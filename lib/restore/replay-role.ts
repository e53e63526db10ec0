// The login role every replay connects as: restores (in place, clone, cross-tenant), undo, verify,
// drills, the prerequisite probe and scratch databases. A dump is data written by whoever can write to
// the bucket; replaying it runs its DDL (and through it, functions) with this role's rights. So it is
// STRATA_RESTORE_DATABASE_URL's role — a member of the roles owning tenant objects, CREATEDB, no
// privileges on Strata's own tables (README "Pointing Strata at an existing SaaS database") — and by
// default (unset) DATABASE_URL's. Either way a superuser, or a role that can `SET ROLE` to one, is refused
// unless STRATA_ALLOW_SUPERUSER_RESTORE=1: a forged dump replayed as superuser runs programs on the
// database host (COPY … TO PROGRAM).
import pg from 'pg';
import type { Config } from '../env.ts';
import { redactSecrets } from '../process/redact.ts';
import { RestoreError } from './errors.ts';

export interface ReplayRoleFacts {
  /** The role the connection acts as (current_user) and the one it logged in as (session_user). */
  user: string;
  sessionUser: string;
  superuser: boolean;
  /** Superuser roles the login role is a member of (SET ROLE would make it superuser). */
  superuserVia: string[];
  createdb: boolean;
  bypassrls: boolean;
}

export interface ReplayRole {
  url: string;
  user: string;
}

export class UnsafeReplayRoleError extends RestoreError {
  constructor(readonly role: string, how: string) {
    super(
      'unsafe_role',
      'conflict',
      `refused before touching anything: the replay role ${JSON.stringify(role)} ${how}. A dump is replayed with ` +
        `that role's rights, and a forged dump replayed by a superuser can run programs on the database host. ` +
        `Set STRATA_RESTORE_DATABASE_URL to a role that is not a superuser (README "Pointing Strata at an existing SaaS database"), ` +
        `or set STRATA_ALLOW_SUPERUSER_RESTORE=1 to accept the risk`,
    );
  }
}

/** STRATA_RESTORE_DATABASE_URL, or DATABASE_URL when it is unset. */
export function replayUrl(config: Config): string {
  return config.STRATA_RESTORE_DATABASE_URL ?? config.DATABASE_URL;
}

/** What the role at `url` is: superuser (directly or through membership), CREATEDB, BYPASSRLS. */
export async function inspectRole(url: string): Promise<ReplayRoleFacts> {
  const client = new pg.Client({ connectionString: url, application_name: 'strata-restore' });
  client.on('error', () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{
      user: string;
      session_user: string;
      superuser: boolean;
      superuser_via: string[];
      createdb: boolean;
      bypassrls: boolean;
    }>(
      `SELECT current_user AS user, session_user AS session_user,
              current_setting('is_superuser') = 'on' OR s.rolsuper AS superuser,
              s.rolcreatedb AS createdb, s.rolbypassrls AS bypassrls,
              coalesce((SELECT array_agg(r.rolname::text ORDER BY r.rolname) FROM pg_catalog.pg_roles r
                        WHERE r.rolsuper AND r.oid <> s.oid AND pg_catalog.pg_has_role(s.oid, r.oid, 'MEMBER')), '{}') AS superuser_via
       FROM pg_catalog.pg_roles s WHERE s.rolname = session_user`,
    );
    const r = rows[0]!;
    return {
      user: r.user,
      sessionUser: r.session_user,
      superuser: r.superuser,
      superuserVia: r.superuser_via,
      createdb: r.createdb,
      bypassrls: r.bypassrls,
    };
  } finally {
    await client.end().catch(() => {});
  }
}

/** Why the role may not replay (null: it may), given STRATA_ALLOW_SUPERUSER_RESTORE. */
export function replayRoleRefusal(facts: ReplayRoleFacts, allowSuperuser: boolean): string | null {
  if (allowSuperuser) return null;
  if (facts.superuser) return 'is a superuser';
  if (facts.superuserVia.length > 0) return `is a member of the superuser role(s) ${facts.superuserVia.join(', ')} (SET ROLE makes it one)`;
  return null;
}

/**
 * The replay role's URL, checked: throws UnsafeReplayRoleError for a superuser without the override.
 * Called at the start of every replay, before anything is downloaded or touched.
 */
export async function replayRole(config: Config): Promise<ReplayRole> {
  const url = replayUrl(config);
  let facts: ReplayRoleFacts;
  try {
    facts = await inspectRole(url);
  } catch (err) {
    const which = config.STRATA_RESTORE_DATABASE_URL ? 'STRATA_RESTORE_DATABASE_URL' : 'DATABASE_URL';
    throw new Error(`cannot connect as the replay role (${which}): ${redactSecrets((err as Error).message, config)}`, { cause: err });
  }
  const refusal = replayRoleRefusal(facts, config.STRATA_ALLOW_SUPERUSER_RESTORE);
  if (refusal) throw new UnsafeReplayRoleError(facts.sessionUser, refusal);
  return { url, user: facts.sessionUser };
}
