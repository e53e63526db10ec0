// Users for the Users & API tokens page (never the password hashes).
import { asc } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { users } from '../schema.ts';

export async function listUsers(db: Db) {
  return db
    .select({ id: users.id, email: users.email, role: users.role, createdAt: users.createdAt, disabledAt: users.disabledAt })
    .from(users)
    .orderBy(asc(users.email));
}
