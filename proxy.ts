// Next 16 "proxy" (formerly middleware): pages need a session; API routes authenticate themselves
// (bearer tokens or the session) and answer 401 in JSON rather than redirecting.
import NextAuth from 'next-auth';
import { NextResponse, type NextFetchEvent, type NextRequest } from 'next/server';
import { authConfig } from '@/lib/auth/config';

const { auth } = NextAuth(authConfig);

const pagesNeedSession = auth((req) => {
  if (req.auth?.user) return NextResponse.next();
  const url = new URL('/signin', req.nextUrl.origin);
  const back = req.nextUrl.pathname + req.nextUrl.search;
  if (back !== '/') url.searchParams.set('callbackUrl', back);
  return NextResponse.redirect(url);
});

export default function proxy(req: NextRequest, event: NextFetchEvent) {
  // Server actions check the caller's role themselves (validatedAction → requireRole). Passing them
  // through the auth() wrapper would also re-issue the session cookie, and on "Sign out" that cookie
  // can land after the deletion and keep the user signed in (nextauthjs/next-auth#12909).
  if (req.method === 'POST' && req.headers.has('next-action')) return NextResponse.next();
  return pagesNeedSession(req, event as never);
}

export const config = {
  matcher: ['/((?!api/|_next/|signin|favicon.ico|robots.txt).*)'],
};
