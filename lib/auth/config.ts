// The part of the Auth.js configuration that needs no database: shared by auth.ts and proxy.ts.
import type { NextAuthConfig } from 'next-auth';
import type { Role } from '../domain.ts';

declare module 'next-auth' {
  interface User {
    role?: Role;
  }
  interface Session {
    user: { email: string; role: Role; name?: string | null };
  }
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
      }
      return token;
    },
    session({ session, token }) {
      // The role here is for display only: requireRole re-reads the user's current role.
      session.user = { ...session.user, email: String(token.email ?? ''), role: (token.role as Role) ?? 'viewer' };
      return session;
    },
  },
} satisfies NextAuthConfig;
