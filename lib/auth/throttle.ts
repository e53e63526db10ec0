// Sign-in throttling, per email and independent of the address: after 5 failed password checks for
// one email within 15 minutes, that email is refused for 15 minutes from the 5th failure, whatever
// X-Forwarded-For says (rotating it must not buy guesses). Attempts live in audit_log (the failures
// are audited anyway), so every dashboard instance sees the same count.
//
// A password check is reserved before bcrypt runs: a short transaction, under an advisory lock on
// the email, checks the lock and inserts a 'checking' row, then commits — so a burst of concurrent
// guesses cannot all pass the check before the first failure is recorded, and no connection or
// transaction is held while bcrypt runs. The row then becomes 'bad_credentials', or is deleted when
// the password was right (a crash in between leaves it counted as a failure: the safe side).
import { and, desc, eq, gte, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { auditLog } from '../db/schema.ts';
import { audit } from '../audit.ts';
import { FAILED_SIGN_IN, signInSubject } from './sign-in-audit.ts';

export { FAILED_SIGN_IN };
export const MAX_FAILURES = 5;
export const WINDOW_MS = 15 * 60_000;

export type FailureReason = 'bad_credentials' | 'throttled' | 'unknown_oidc_user' | 'email_not_verified';
/** Reasons that count toward the lock: password checks made (or reserved), not refusals. */
const COUNTED = ['bad_credentials', 'checking'];

export interface ThrottleState {
  locked: boolean;
  /** When the email may try again (locked only). */
  until: Date | null;
}

/** Looks at the email's last five password checks, from any address. */
export async function throttleState(db: Db, email: string, now = new Date()): Promise<ThrottleState> {
  const rows = await db
    .select({ at: auditLog.at })
    .from(auditLog)
    .where(
      and(
        eq(auditLog.action, FAILED_SIGN_IN),
        eq(auditLog.target, email),
        gte(auditLog.at, new Date(now.getTime() - 2 * WINDOW_MS)),
        inArray(sql`coalesce(${auditLog.details} ->> 'reason', '')`, COUNTED),
      ),
    )
    .orderBy(desc(auditLog.at))
    .limit(MAX_FAILURES);
  if (rows.length < MAX_FAILURES) return { locked: false, until: null };
  const newest = rows[0]!.at.getTime();
  const oldest = rows[MAX_FAILURES - 1]!.at.getTime();
  // Five checks within 15 minutes lock the email for 15 minutes from the fifth.
  const until = newest + WINDOW_MS;
  if (newest - oldest > WINDOW_MS || until <= now.getTime()) return { locked: false, until: null };
  return { locked: true, until: new Date(until) };
}

/**
 * Reserves one password check for a (valid, normalized) email: the id of its 'checking' row, or
 * null when the email is locked (the refusal is audited). Holds a connection only for this.
 */
export async function reservePasswordCheck(db: Db, email: string, ip: string): Promise<number | null> {
  return db.transaction(async (tx) => {
    const t = tx as unknown as Db;
    await tx.execute(sql`set local lock_timeout = '5s'`);
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`sign-in:${email}`}))`);
    if ((await throttleState(t, email)).locked) {
      await recordFailedSignIn(t, email, ip, 'throttled');
      return null;
    }
    const rows = await tx
      .insert(auditLog)
      .values({ actor: email, action: FAILED_SIGN_IN, target: email, details: { ip, reason: 'checking' } })
      .returning({ id: auditLog.id });
    return rows[0]!.id;
  });
}

/** Settles a reserved check: a failure stays counted, a success removes the reservation. */
export async function settlePasswordCheck(db: Db, reservation: number, ok: boolean): Promise<void> {
  if (ok) {
    await db.delete(auditLog).where(eq(auditLog.id, reservation));
  } else {
    await db
      .update(auditLog)
      .set({ details: sql`jsonb_set(${auditLog.details}, '{reason}', '"bad_credentials"')` })
      .where(eq(auditLog.id, reservation));
  }
}

/** Audits a failed sign-in; what was typed as the email is recorded only if it is an email. */
export async function recordFailedSignIn(db: Pick<Db, 'insert'>, typed: string, ip: string, reason: FailureReason) {
  const subject = signInSubject(typed);
  await audit(db, { actor: subject || 'anonymous', action: FAILED_SIGN_IN, target: subject, details: { ip, reason } });
}

/** Deletes failed sign-in rows older than `days` (the worker's daily maintenance). */
export async function pruneFailedSignIns(db: Db, days: number): Promise<number> {
  const rows = await db
    .delete(auditLog)
    .where(and(eq(auditLog.action, FAILED_SIGN_IN), sql`${auditLog.at} < now() - make_interval(days => ${days})`))
    .returning({ id: auditLog.id });
  return rows.length;
}
