// Email + password sign-in, in the order that keeps it safe under attack: validate the email, wait
// (briefly) for one of STRATA_SIGNIN_CONCURRENCY check slots, reserve a password check for the email
// (refused while it is locked, whatever the address), read the user row, compare outside any
// transaction or pooled connection, record. Only the slot holders touch the pool (at most a few of
// its connections), so a crowd of sign-ins leaves the rest to pages and API calls.
import type { Db } from '../db/client.ts';
import type { Role } from '../domain.ts';
import { comparePassword, SignInBusyError, withSignInSlot } from './password-check.ts';
import { isRole } from './roles.ts';
import { recordFailedSignIn, reservePasswordCheck, settlePasswordCheck } from './throttle.ts';
import { emailSchema, findUserByEmail } from './users.ts';

// A hash of a random password: comparing against it costs the same time as a real check, so a
// missing user cannot be told apart from a wrong password by timing.
const DUMMY_HASH = '$2b$12$U4qGbCXqX6.Pqp.ZxSewQ.1Zjom4nMpG2Nsp29TiKmIGZgpyGujl6';

export interface SignedInUser {
  id: string;
  email: string;
  role: Role;
  sessionVersion: number;
}

export type SignInOutcome = { user: SignedInUser } | { refused: 'bad_credentials' | 'throttled' | 'busy' };

export async function signInWithPassword(
  db: Db,
  input: { email: string; password: string; ip: string },
  concurrency: number,
): Promise<SignInOutcome> {
  const parsed = emailSchema.safeParse(input.email);
  if (!parsed.success || !input.password) {
    await recordFailedSignIn(db, input.email, input.ip, 'bad_credentials');
    return { refused: 'bad_credentials' };
  }
  const email = parsed.data;
  try {
    return await withSignInSlot(concurrency, () => checkPassword(db, email, input.password, input.ip));
  } catch (err) {
    // Refused before touching the database: under a flood, refusals must cost nothing.
    if (err instanceof SignInBusyError) return { refused: 'busy' };
    throw err;
  }
}

/** Within a slot: at most STRATA_SIGNIN_CONCURRENCY of these use the pool at once. */
async function checkPassword(db: Db, email: string, password: string, ip: string): Promise<SignInOutcome> {
  const reservation = await reservePasswordCheck(db, email, ip);
  if (reservation === null) return { refused: 'throttled' };
  const user = await findUserByEmail(db, email); // the connection goes back to the pool here
  const match = await comparePassword(password, user?.passwordHash ?? DUMMY_HASH);
  const role = user?.role;
  const ok = match && !!user?.passwordHash && !user.disabledAt && isRole(role);
  await settlePasswordCheck(db, reservation, ok);
  if (!ok || !user || !isRole(role)) return { refused: 'bad_credentials' };
  return { user: { id: user.id, email: user.email, role, sessionVersion: user.sessionVersion } };
}
