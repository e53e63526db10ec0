// A session is current while its user exists, is enabled, has a valid role and still has the
// session_version the session was issued with. Checked on every request that uses a session: by
// proxy.ts for pages, by currentActor for pages, server actions and API routes.
import type { Db } from '../db/client.ts';
import { isRole } from './roles.ts';
import { findUserByEmail } from './users.ts';

/** The user behind a session, or null when the session no longer holds. */
export async function currentSessionUser(db: Db, email: string, version: number) {
  const user = await findUserByEmail(db, email);
  if (!user || user.disabledAt || user.sessionVersion !== version) return null;
  const role = user.role;
  return isRole(role) ? { id: user.id, email: user.email, role } : null;
}
