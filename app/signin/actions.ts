'use server';
import { AuthError } from 'next-auth';
import { z } from 'zod';
import { signIn } from '@/auth';

const form = z.object({
  email: z.string().trim().min(1, 'Enter your email').max(254),
  password: z.string().min(1, 'Enter your password').max(200),
  callbackUrl: z.string().max(500).optional(),
});

export interface SignInState {
  error?: string;
}

/** Only same-origin paths: an open redirect after sign-in would be a phishing aid. */
function safeCallback(url: string | undefined): string {
  return url && url.startsWith('/') && !url.startsWith('//') ? url : '/';
}

export async function signInWithPassword(_prev: SignInState | null, formData: FormData): Promise<SignInState> {
  const parsed = form.safeParse(Object.fromEntries(formData));
  if (!parsed.success) return { error: parsed.error.issues[0]?.message ?? 'Enter your email and password' };
  try {
    await signIn('credentials', {
      email: parsed.data.email,
      password: parsed.data.password,
      redirectTo: safeCallback(parsed.data.callbackUrl),
    });
    return {};
  } catch (err) {
    if (err instanceof AuthError) {
      const code = (err as AuthError & { code?: string }).code;
      if (code === 'throttled') return { error: 'Too many failed sign-ins for this email. Try again in 15 minutes.' };
      if (code === 'busy') return { error: 'Too many sign-ins are being checked right now. Try again in a few seconds.' };
      return { error: 'Email or password is incorrect.' };
    }
    throw err; // the success redirect
  }
}

export async function signInWithOidc(formData: FormData): Promise<void> {
  await signIn('oidc', { redirectTo: safeCallback(String(formData.get('callbackUrl') ?? '')) });
}
