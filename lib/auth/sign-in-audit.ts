// What a failed sign-in writes to the audit log, which every viewer reads: the email field only
// when it holds an email (people paste passwords into it), otherwise a keyed hash of it, so
// repeated attempts with the same value still group together without revealing the value.
import crypto from 'node:crypto';
import { processEnv } from '../env.ts';
import { emailSchema } from './users.ts';

export const FAILED_SIGN_IN = 'auth.sign_in_failed';

/** Used when AUTH_SECRET is unset (a test process): hashes are then stable only per process. */
const FALLBACK_KEY = crypto.randomBytes(32);

/** The normalized email, or `hash:<32 hex>` (HMAC-SHA256 keyed with AUTH_SECRET) of anything else. */
export function signInSubject(typed: string, secret = processEnv().AUTH_SECRET): string {
  const parsed = emailSchema.safeParse(typed);
  if (parsed.success) return parsed.data;
  if (typed === '') return '';
  const key = secret ? crypto.createHash('sha256').update(`strata sign-in audit\0${secret}`).digest() : FALLBACK_KEY;
  return `hash:${crypto.createHmac('sha256', key).update(typed, 'utf8').digest('hex').slice(0, 32)}`;
}
