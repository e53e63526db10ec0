// Next 16 "proxy" (formerly middleware): pages need a current session; API routes authenticate
// themselves (bearer tokens or the session) and answer 401 in JSON rather than redirecting.
//
// A session is current while its user is enabled and still has the session_version the session
// was issued with: a password, role or disabled change ends it on the next request, including the
// client-side navigations that re-render a page but not the dashboard layout.
//
// The session cookie is only read here, never re-issued: Auth.js's auth() wrapper re-sets it on
// every request, and a prefetch answered while "Sign out" runs could then put the session back
// after its deletion (nextauthjs/next-auth#12909). Pages and server actions check the caller again
// (currentActor / requireRole).
import { getToken } from 'next-auth/jwt';
import { NextResponse, type NextRequest } from 'next/server';
import { sessionVersionOf } from '@/lib/auth/config';
import { currentSessionUser } from '@/lib/auth/session-version';
import { appDb } from '@/lib/db/queries/connection';
import { processEnv } from '@/lib/env';

export default async function proxy(req: NextRequest) {
  const token = await getToken({ req, secret: processEnv().AUTH_SECRET, secureCookie: req.nextUrl.protocol === 'https:' });
  // Server actions check the caller themselves (requireRole, session version included) and answer
  // with their own refusal; pages get the version check here.
  if (token?.email && req.headers.has('next-action')) return NextResponse.next();
  if (token?.email && (await currentSessionUser(appDb(), token.email, sessionVersionOf(token.sv)))) return NextResponse.next();
  const url = new URL('/signin', req.nextUrl.origin);
  const back = req.nextUrl.pathname + req.nextUrl.search;
  if (back !== '/') url.searchParams.set('callbackUrl', back);
  return NextResponse.redirect(url);
}

export const config = {
  matcher: ['/((?!api/|_next/|signin|favicon.ico|robots.txt).*)'],
};
