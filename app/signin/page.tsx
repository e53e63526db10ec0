import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { oidcEnabled } from '@/auth';
import { currentActor } from '@/lib/auth/session';
import { buttonClass } from '@/components/ui';
import { signInWithOidc } from './actions';
import { SignInForm } from './signin-form';

export const metadata: Metadata = { title: 'Sign in' };

export default async function SignInPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const sp = await searchParams;
  const callbackUrl = typeof sp.callbackUrl === 'string' ? sp.callbackUrl : '/';
  // A current session only: a stale one (its user's password, role or state changed since) must
  // see the form, not bounce between here and the proxy.
  if (await currentActor().catch(() => null)) redirect('/');
  return (
    <main className="flex min-h-screen items-center justify-center px-4">
      <div className="w-full max-w-sm">
        <div className="mb-6 text-center">
          <div className="mx-auto mb-3 flex h-10 w-10 items-center justify-center rounded-lg bg-slate-900 text-lg font-bold text-white">S</div>
          <h1 className="text-xl font-semibold text-slate-900">Sign in to Strata</h1>
          <p className="mt-1 text-sm text-slate-500">Tenant backups and restores</p>
        </div>
        <div className="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
          <SignInForm callbackUrl={callbackUrl} />
          {oidcEnabled() ? (
            <form action={signInWithOidc} className="mt-4 border-t border-slate-100 pt-4">
              <input type="hidden" name="callbackUrl" value={callbackUrl} />
              <button type="submit" className={`${buttonClass.secondary} w-full py-2`}>
                Sign in with single sign-on
              </button>
            </form>
          ) : null}
        </div>
      </div>
    </main>
  );
}
