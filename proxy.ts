// Next 16 "proxy" (formerly middleware): pages need a session; API routes authenticate themselves
// (bearer tokens or the session) and answer 401 in JSON rather than redirecting.
import NextAuth from 'next-auth';
import { NextResponse } from 'next/server';
import { authConfig } from '@/lib/auth/config';

const { auth } = NextAuth(authConfig);

export default auth((req) => {
  if (req.auth?.user) return NextResponse.next();
  const url = new URL('/signin', req.nextUrl.origin);
  const back = req.nextUrl.pathname + req.nextUrl.search;
  if (back !== '/') url.searchParams.set('callbackUrl', back);
  return NextResponse.redirect(url);
});

export const config = {
  matcher: ['/((?!api/|_next/|signin|favicon.ico|robots.txt).*)'],
};
