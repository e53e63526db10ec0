// requireRole: the one authorization check every server action and route handler calls.
// A bearer token (`Authorization: Bearer strata_…`) or the signed-in session; the role always comes
// from the database at the time of the call, never from the client or a stale session cookie, and a
// session ends when its user's session_version moves on (password, role or disabled change).
import { headers } from 'next/headers';
import { auth } from '@/auth';
import type { Role } from '../domain.ts';
import { appDb } from '../db/queries/connection.ts';
import { AuthError } from './errors.ts';
import { roleAtLeast } from './roles.ts';
import { currentSessionUser } from './session-version.ts';
import { authenticateToken } from './tokens.ts';

export interface Actor {
  /** What audit_log records: the user's email or `token:<name>`. */
  name: string;
  role: Role;
  via: 'session' | 'token' | 'cli';
  email: string | null;
}

async function bearerSecret(request?: Request): Promise<string | null> {
  const header = request ? request.headers.get('authorization') : (await headers()).get('authorization');
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new AuthError('unauthorized', 'the Authorization header must be "Bearer <token>"');
  return match[1]!;
}

/** Who is calling, or null when nobody is signed in. */
export async function currentActor(request?: Request): Promise<Actor | null> {
  const db = appDb();
  const secret = await bearerSecret(request);
  if (secret !== null) {
    const token = await authenticateToken(db, secret);
    if (!token) throw new AuthError('unauthorized', 'the API token is unknown or revoked');
    return { name: `token:${token.name}`, role: token.role, via: 'token', email: null };
  }
  const session = await auth();
  const email = session?.user?.email;
  if (!email) return null;
  const user = await currentSessionUser(db, email, session.user.sessionVersion);
  if (!user) return null;
  return { name: user.email, role: user.role, via: 'session', email: user.email };
}

/** The caller, when their role is at least `min`; AuthError (401/403) otherwise. */
export async function requireRole(min: Role, request?: Request): Promise<Actor> {
  const actor = await currentActor(request);
  if (!actor) throw new AuthError('unauthorized', 'sign in or send an API token');
  if (!roleAtLeast(actor.role, min)) {
    throw new AuthError('forbidden', `this needs the ${min} role; you are ${actor.role}`);
  }
  return actor;
}
