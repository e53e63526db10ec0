// Shared by the abuse specs: the global setup's state directory (logs and secrets of the running
// stack), a pooled DB handle, and tallies in the reliability suite's format.
import fs from 'node:fs';
import path from 'node:path';
import { encode } from 'next-auth/jwt';
import { getDb, type Db } from '../../lib/db/client.ts';
import { saveCase, secretsOfEnv, type CaseResult } from '../../lib/reliability/harness.ts';
import { readState } from '../stack.ts';

/** The temp dir e2e/global-setup.ts started the stack in (next.log, worker.log, auth-secret, the B2 key, the age identity). */
export function stackDir(): string {
  return readState().dir;
}

export const readLog = (name: 'next' | 'worker') => fs.readFileSync(path.join(stackDir(), `${name}.log`), 'utf8');

/**
 * The running stack's secrets, from the environment it was started with: DB and restore-role passwords,
 * B2 key, AUTH_SECRET, age identity, signing key, API tokens.
 */
export function stackSecrets(): Record<string, string> {
  const state = readState();
  return secretsOfEnv(
    { ...state.env, DATABASE_URL: state.databaseUrl },
    Object.fromEntries(Object.entries(state.tokens).map(([role, token]) => [`API token (${role})`, token])),
  );
}

export const db = (): Db => getDb(readState().databaseUrl);

/**
 * A case whose trials are not runs of one function (generated requests, one scan): the caller counts
 * its own violations from what it saw. Cases that repeat one trial use harness.ts runCase instead.
 */
export function tally(name: string, group: CaseResult['group'], trials: number, outcomes: Record<string, number>, seconds: number, violations: number): void {
  saveCase({ case: name, group, trials, outcomes, violations, seconds: Math.round(seconds * 10) / 10 });
}

/** Lines of the Next server log that report an unhandled error (written since `from`). */
export function serverErrors(from: number): string[] {
  return readLog('next')
    .slice(from)
    .split('\n')
    .filter((l) => /unhandledRejection|uncaughtException|Unhandled|⨯|\bat async\b|Error: /i.test(l));
}

/** The Auth.js session cookie's name (http, no __Secure- prefix). */
export const COOKIE = 'authjs.session-token';

/**
 * An Auth.js session cookie value for `email`, valid for maxAge seconds (negative: already expired),
 * signed with the running stack's AUTH_SECRET. It claims the admin role: the server must ignore that
 * and read the role from the database.
 */
export async function sessionCookie(email: string, maxAge: number): Promise<string> {
  const secret = fs.readFileSync(path.join(stackDir(), 'auth-secret'), 'utf8').trim();
  return encode({ token: { email, role: 'admin', sub: email }, secret, salt: COOKIE, maxAge });
}
