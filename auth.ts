// Auth.js v5: email + password against `users` (bcrypt), and OIDC when AUTH_OIDC_* are set.
// Sessions are JWTs carrying the user's session_version; the password check, its per-email limit and
// its concurrency cap are lib/auth/sign-in.ts; failed sign-ins go to audit_log (lib/auth/throttle.ts).
import NextAuth, { CredentialsSignin, type NextAuthConfig } from 'next-auth';
import Credentials from 'next-auth/providers/credentials';
import type { Provider } from 'next-auth/providers';
import { authConfig } from '@/lib/auth/config';
import { clientIp } from '@/lib/auth/ip';
import { signInWithPassword } from '@/lib/auth/sign-in';
import { recordFailedSignIn } from '@/lib/auth/throttle';
import { findUserByEmail } from '@/lib/auth/users';
import { isRole } from '@/lib/auth/roles';
import { appConfig, appDb } from '@/lib/db/queries/connection';
import { processEnv } from '@/lib/env';

class ThrottledSignIn extends CredentialsSignin {
  code = 'throttled';
}
class BusySignIn extends CredentialsSignin {
  code = 'busy';
}

const credentials = Credentials({
  id: 'credentials',
  name: 'Email and password',
  credentials: { email: { label: 'Email', type: 'email' }, password: { label: 'Password', type: 'password' } },
  async authorize(input, request) {
    const config = appConfig();
    const outcome = await signInWithPassword(
      appDb(),
      {
        email: typeof input?.email === 'string' ? input.email.slice(0, 254) : '',
        password: typeof input?.password === 'string' ? input.password : '',
        ip: clientIp(request.headers, config.STRATA_TRUSTED_PROXY_HOPS),
      },
      config.STRATA_SIGNIN_CONCURRENCY,
    );
    if ('user' in outcome) return outcome.user;
    if (outcome.refused === 'throttled') throw new ThrottledSignIn();
    if (outcome.refused === 'busy') throw new BusySignIn();
    return null;
  },
});

function oidcProvider(): Provider[] {
  const { AUTH_OIDC_ISSUER: issuer, AUTH_OIDC_CLIENT_ID: clientId, AUTH_OIDC_CLIENT_SECRET: clientSecret } = processEnv();
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
    // The provider must say it verified the email (`email_verified`, a boolean — or the string
    // "true", as some providers send it): otherwise anyone who can register that address there
    // would get the Strata user's access.
    async signIn({ user, account, profile }) {
      if (account?.provider !== 'oidc') return true;
      const db = appDb();
      const email = String(user.email ?? '').toLowerCase();
      const verified = profile?.email_verified === true || (profile?.email_verified as unknown) === 'true';
      if (!verified) {
        await recordFailedSignIn(db, email, 'oidc', 'email_not_verified');
        return false;
      }
      const row = email ? await findUserByEmail(db, email) : null;
      if (!row || row.disabledAt || !isRole(row.role)) {
        await recordFailedSignIn(db, email, 'oidc', 'unknown_oidc_user');
        return false;
      }
      user.email = row.email;
      user.role = row.role;
      user.sessionVersion = row.sessionVersion;
      return true;
    },
  },
};

export const { handlers, auth, signIn, signOut } = NextAuth(config);
