// Dashboard users: created by `strata user add` and by admins on the Users page.
import bcrypt from 'bcryptjs';
import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.ts';
import { users } from '../db/schema.ts';
import { ROLES, type Role } from '../domain.ts';

export const BCRYPT_COST = 12;
export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email('must be an email address').max(254));
export const passwordSchema = z.string().min(12, 'must be at least 12 characters').max(200, 'must be at most 200 characters');
export const roleSchema = z.enum(ROLES);

export class UserExistsError extends Error {
  readonly code = 'conflict';
  constructor(email: string) {
    super(`a user with email ${email} already exists`);
    this.name = 'UserExistsError';
  }
}

export interface UserSummary {
  id: string;
  email: string;
  role: Role;
  createdAt: Date;
  disabledAt: Date | null;
}

const normalizeEmail = (email: string) => email.trim().toLowerCase();

/** Creates a user with a bcrypt (cost 12) password hash. Throws UserExistsError on a taken email. */
export async function createUser(db: Db, input: { email: string; role: Role; password: string }): Promise<UserSummary> {
  const email = emailSchema.parse(input.email);
  const role = roleSchema.parse(input.role);
  const password = passwordSchema.parse(input.password);
  const passwordHash = await bcrypt.hash(password, BCRYPT_COST);
  const rows = await db
    .insert(users)
    .values({ email, role, passwordHash })
    .onConflictDoNothing({ target: users.email })
    .returning();
  const row = rows[0];
  if (!row) throw new UserExistsError(email);
  return { id: row.id, email: row.email, role: row.role as Role, createdAt: row.createdAt, disabledAt: row.disabledAt };
}

export async function findUserByEmail(db: Db, email: string) {
  const rows = await db.select().from(users).where(eq(users.email, normalizeEmail(email))).limit(1);
  return rows[0] ?? null;
}

export async function findUserById(db: Db, id: string) {
  const rows = await db.select().from(users).where(eq(users.id, id)).limit(1);
  return rows[0] ?? null;
}

// A password, role or disabled change bumps session_version: sessions carry the version they were
// issued with (lib/auth/session-version.ts), so every existing session of the user ends. API tokens
// are separate principals and keep working.
const endSessions = { sessionVersion: sql`${users.sessionVersion} + 1` };

export async function setUserRole(db: Db, userId: string, role: Role) {
  const rows = await db.update(users).set({ role: roleSchema.parse(role), ...endSessions }).where(eq(users.id, userId)).returning();
  return rows[0] ?? null;
}

export async function setUserDisabled(db: Db, userId: string, disabled: boolean) {
  const rows = await db
    .update(users)
    .set({ disabledAt: disabled ? sql`now()` : null, ...endSessions })
    .where(eq(users.id, userId))
    .returning();
  return rows[0] ?? null;
}

export async function setUserPassword(db: Db, userId: string, password: string) {
  const passwordHash = await bcrypt.hash(passwordSchema.parse(password), BCRYPT_COST);
  const rows = await db.update(users).set({ passwordHash, ...endSessions }).where(eq(users.id, userId)).returning();
  return rows[0] ?? null;
}
