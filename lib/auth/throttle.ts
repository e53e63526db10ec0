// Sign-in throttling: after 5 failed attempts for one email from one IP within 15 minutes, that
// pair is refused for 15 minutes from the 5th failure. Attempts live in audit_log (the failures
// are audited anyway), so every dashboard instance sees the same count.
import { and, desc, eq, gte, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { auditLog } from '../db/schema.ts';
import { audit } from '../audit.ts';

export const MAX_FAILURES = 5;
export const WINDOW_MS = 15 * 60_000;
export const FAILED_SIGN_IN = 'auth.sign_in_failed';

export interface ThrottleState {
  locked: boolean;
  /** When the pair may try again (locked only). */
  until: Date | null;
}

/** Looks at the last five real password failures (refusals while locked do not count). */
export async function throttleState(db: Db, email: string, ip: string, now = new Date()): Promise<ThrottleState> {
  const rows = await db
    .select({ at: auditLog.at })
    .from(auditLog)
    .where(
      and(
        eq(auditLog.action, FAILED_SIGN_IN),
        eq(auditLog.target, email),
        gte(auditLog.at, new Date(now.getTime() - 2 * WINDOW_MS)),
        sql`${auditLog.details} ->> 'ip' = ${ip}`,
        sql`coalesce(${auditLog.details} ->> 'reason', '') <> 'throttled'`,
      ),
    )
    .orderBy(desc(auditLog.at))
    .limit(MAX_FAILURES);
  if (rows.length < MAX_FAILURES) return { locked: false, until: null };
  const newest = rows[0]!.at.getTime();
  const oldest = rows[MAX_FAILURES - 1]!.at.getTime();
  // Five failures within 15 minutes lock the pair for 15 minutes from the fifth.
  const until = newest + WINDOW_MS;
  if (newest - oldest > WINDOW_MS || until <= now.getTime()) return { locked: false, until: null };
  return { locked: true, until: new Date(until) };
}

export async function recordFailedSignIn(db: Db, email: string, ip: string, reason: 'bad_credentials' | 'throttled' | 'unknown_oidc_user') {
  await audit(db, { actor: email || 'anonymous', action: FAILED_SIGN_IN, target: email, details: { ip, reason } });
}
