// The part of the Auth.js configuration that needs no database: shared by auth.ts and proxy.ts.
import type { NextAuthConfig } from 'next-auth';
import type { Role } from '../domain.ts';

declare module 'next-auth' {
  interface User {
    role?: Role;
    /** users.session_version when the session was issued (lib/auth/session-version.ts). */
    sessionVersion?: number;
  }
  interface Session {
    user: { email: string; role: Role; sessionVersion: number; name?: string | null };
  }
}

/** A session's version (sessions issued before versions existed carry none: version 0). */
export function sessionVersionOf(claim: unknown): number {
  return typeof claim === 'number' && Number.isInteger(claim) ? claim : 0;
}

export const SESSION_MAX_AGE_S = 8 * 60 * 60;

export const authConfig = {
  pages: { signIn: '/signin', error: '/signin' },
  session: { strategy: 'jwt', maxAge: SESSION_MAX_AGE_S },
  providers: [],
  callbacks: {
    jwt({ token, user }) {
      if (user) {
        token.email = user.email;
        token.role = user.role;
        token.sv = user.sessionVersion ?? 0;
      }
      return token;
    },
    session({ session, token }) {
      // The role here is for display only: requireRole re-reads the user's current role.
      session.user = {
        ...session.user,
        email: String(token.email ?? ''),
        role: (token.role as Role) ?? 'viewer',
        sessionVersion: sessionVersionOf(token.sv),
      };
      return session;
    },
  },
} satisfies NextAuthConfig;
