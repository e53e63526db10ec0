// API tokens: `strata_<43 chars>`, shown once, stored as sha256. Each carries a role.
import crypto from 'node:crypto';
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.ts';
import { apiTokens } from '../db/schema.ts';
import type { Role } from '../domain.ts';
import { isRole } from './roles.ts';

export const TOKEN_PREFIX = 'strata_';
export const tokenNameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore only');

export const hashToken = (secret: string) => crypto.createHash('sha256').update(secret, 'utf8').digest('hex');

export interface TokenPrincipal {
  id: string;
  name: string;
  role: Role;
}

/** Creates a token and returns its secret: the only time the secret exists outside the caller. */
export async function createApiToken(db: Db, input: { name: string; role: Role; createdBy: string }) {
  const name = tokenNameSchema.parse(input.name);
  const secret = TOKEN_PREFIX + crypto.randomBytes(32).toString('base64url');
  const rows = await db
    .insert(apiTokens)
    .values({ name, role: input.role, tokenHash: hashToken(secret), createdBy: input.createdBy })
    .returning({ id: apiTokens.id, name: apiTokens.name, role: apiTokens.role, createdAt: apiTokens.createdAt });
  return { ...rows[0]!, secret };
}

/** Revokes a token; false when it does not exist or was already revoked. */
export async function revokeApiToken(db: Db, id: string): Promise<{ name: string } | null> {
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
    .returning({ name: apiTokens.name });
  return rows[0] ?? null;
}

/** The principal behind a bearer secret (and last_used_at updated), or null when unknown/revoked. */
export async function authenticateToken(db: Db, secret: string): Promise<TokenPrincipal | null> {
  if (!secret.startsWith(TOKEN_PREFIX) || secret.length > 200) return null;
  const rows = await db
    .update(apiTokens)
    .set({ lastUsedAt: sql`now()` })
    .where(and(eq(apiTokens.tokenHash, hashToken(secret)), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id, name: apiTokens.name, role: apiTokens.role });
  const row = rows[0];
  if (!row || !isRole(row.role)) return null;
  return { id: row.id, name: row.name, role: row.role };
}

export async function listApiTokens(db: Db) {
  return db
    .select({
      id: apiTokens.id,
      name: apiTokens.name,
      role: apiTokens.role,
      createdBy: apiTokens.createdBy,
      createdAt: apiTokens.createdAt,
      lastUsedAt: apiTokens.lastUsedAt,
      revokedAt: apiTokens.revokedAt,
    })
    .from(apiTokens)
    .orderBy(desc(apiTokens.createdAt));
}
