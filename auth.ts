// Auth.js v5: email + password against `users` (bcrypt), and OIDC when AUTH_OIDC_* are set.
// Sessions are JWTs; throttling and failed sign-ins go through audit_log (lib/auth/throttle.ts).
import NextAuth, { CredentialsSignin, type NextAuthConfig } from 'next-auth';
import Credentials from 'next-auth/providers/credentials';
import type { Provider } from 'next-auth/providers';
import { authConfig } from '@/lib/auth/config';
import { clientIp } from '@/lib/auth/ip';
import { recordFailedSignIn, throttleState } from '@/lib/auth/throttle';
import { emailSchema, findUserByEmail, verifyPassword } from '@/lib/auth/users';
import { isRole } from '@/lib/auth/roles';
import { sql } from 'drizzle-orm';
import type { Db } from '@/lib/db/client';
import { appDb } from '@/lib/db/queries/connection';

class ThrottledSignIn extends CredentialsSignin {
  code = 'throttled';
}

const credentials = Credentials({
  id: 'credentials',
  name: 'Email and password',
  credentials: { email: { label: 'Email', type: 'email' }, password: { label: 'Password', type: 'password' } },
  async authorize(input, request) {
    const parsedEmail = emailSchema.safeParse(input?.email);
    const password = typeof input?.password === 'string' ? input.password : '';
    const email = parsedEmail.success ? parsedEmail.data : String(input?.email ?? '').slice(0, 254);
    const ip = clientIp(request.headers);
    // Check, verify and record under one lock per email and address: otherwise a burst of
    // concurrent guesses all pass the check before the first failure is recorded.
    const outcome = await appDb().transaction(async (tx) => {
      const db = tx as unknown as Db;
      await tx.execute(sql`set local lock_timeout = '15s'`);
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`sign-in:${email}:${ip}`}))`);
      if ((await throttleState(db, email, ip)).locked) {
        await recordFailedSignIn(db, email, ip, 'throttled');
        return 'throttled' as const;
      }
      const user = parsedEmail.success && password ? await verifyPassword(db, email, password) : null;
      if (!user || !isRole(user.role)) {
        await recordFailedSignIn(db, email, ip, 'bad_credentials');
        return null;
      }
      return user;
    });
    if (outcome === 'throttled') throw new ThrottledSignIn();
    if (!outcome || !isRole(outcome.role)) return null;
    return { id: outcome.id, email: outcome.email, role: outcome.role };
  },
});

function oidcProvider(): Provider[] {
  const { AUTH_OIDC_ISSUER: issuer, AUTH_OIDC_CLIENT_ID: clientId, AUTH_OIDC_CLIENT_SECRET: clientSecret } = process.env;
  if (!issuer || !clientId || !clientSecret) return [];
  return [{ id: 'oidc', name: 'Single sign-on', type: 'oidc', issuer, clientId, clientSecret }];
}

export const oidcEnabled = () => oidcProvider().length > 0;

const config: NextAuthConfig = {
  ...authConfig,
  providers: [credentials, ...oidcProvider()],
  callbacks: {
    ...authConfig.callbacks,
    // OIDC proves an email; only emails with an enabled Strata user get in, with that user's role.
    async signIn({ user, account }) {
      if (account?.provider !== 'oidc') return true;
      const db = appDb();
      const email = String(user.email ?? '').toLowerCase();
      const row = email ? await findUserByEmail(db, email) : null;
      if (!row || row.disabledAt || !isRole(row.role)) {
        await recordFailedSignIn(db, email, 'oidc', 'unknown_oidc_user');
        return false;
      }
      user.email = row.email;
      user.role = row.role;
      return true;
    },
  },
};

export const { handlers, auth, signIn, signOut } = NextAuth(config);
