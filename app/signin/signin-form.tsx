'use client';
import { useActionState } from 'react';
import { buttonClass, ErrorNote, inputClass } from '@/components/ui';
import { signInWithPassword } from './actions';

export function SignInForm({ callbackUrl }: { callbackUrl: string }) {
  const [state, action, pending] = useActionState(signInWithPassword, null);
  return (
    <form action={action} className="space-y-4" noValidate>
      <input type="hidden" name="callbackUrl" value={callbackUrl} />
      <div>
        <label htmlFor="email" className="mb-1 block text-sm font-medium text-slate-700">
          Email
        </label>
        <input id="email" name="email" type="email" autoComplete="username" required className={inputClass} />
      </div>
      <div>
        <label htmlFor="password" className="mb-1 block text-sm font-medium text-slate-700">
          Password
        </label>
        <input id="password" name="password" type="password" autoComplete="current-password" required className={inputClass} />
      </div>
      {state?.error ? <ErrorNote>{state.error}</ErrorNote> : null}
      <button type="submit" disabled={pending} className={`${buttonClass.primary} w-full py-2`}>
        {pending ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}
