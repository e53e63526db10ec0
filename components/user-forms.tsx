'use client';
import { useActionState } from 'react';
import type { ActionState } from '@/lib/api/action';
import { buttonClass, inputClass } from './ui';

type Action = (prev: unknown, input: FormData) => Promise<ActionState>;

function Feedback({ state }: { state: ActionState | null }) {
  if (!state) return null;
  if (state.error) {
    const details = Object.entries(state.fieldErrors ?? {}).filter(([k]) => k !== 'form');
    return (
      <p role="alert" className="text-sm text-red-600">
        {state.error}
        {details.length ? ` ${details.map(([k, v]) => `${k}: ${v}`).join('; ')}` : ''}
      </p>
    );
  }
  return (
    <p role="status" className="text-sm text-emerald-700">
      {state.message}
    </p>
  );
}

const roleSelect = (id: string) => (
  <select id={id} name="role" defaultValue="viewer" className={inputClass}>
    <option value="viewer">viewer</option>
    <option value="operator">operator</option>
    <option value="admin">admin</option>
  </select>
);

export function CreateUserForm({ action }: { action: Action }) {
  const [state, formAction, pending] = useActionState(action, null);
  return (
    <form action={formAction} className="space-y-3">
      <div className="grid gap-2 sm:grid-cols-3">
        <div>
          <label htmlFor="new-user-email" className="block text-xs text-slate-500">
            Email
          </label>
          <input id="new-user-email" name="email" type="email" required className={inputClass} autoComplete="off" />
        </div>
        <div>
          <label htmlFor="new-user-password" className="block text-xs text-slate-500">
            Initial password (12+ characters)
          </label>
          <input id="new-user-password" name="password" type="password" required minLength={12} className={inputClass} autoComplete="new-password" />
        </div>
        <div>
          <label htmlFor="new-user-role" className="block text-xs text-slate-500">
            Role
          </label>
          {roleSelect('new-user-role')}
        </div>
      </div>
      <button type="submit" disabled={pending} className={buttonClass.primary}>
        Add user
      </button>
      <Feedback state={state} />
    </form>
  );
}

export function CreateTokenForm({ action }: { action: Action }) {
  const [state, formAction, pending] = useActionState(action, null);
  const secret = (state?.data as { secret?: string } | undefined)?.secret;
  return (
    <form action={formAction} className="space-y-3">
      <div className="grid gap-2 sm:grid-cols-2">
        <div>
          <label htmlFor="new-token-name" className="block text-xs text-slate-500">
            Name (what uses it)
          </label>
          <input id="new-token-name" name="name" required maxLength={64} className={inputClass} autoComplete="off" placeholder="ci-nightly" />
        </div>
        <div>
          <label htmlFor="new-token-role" className="block text-xs text-slate-500">
            Role
          </label>
          {roleSelect('new-token-role')}
        </div>
      </div>
      <button type="submit" disabled={pending} className={buttonClass.primary}>
        Create token
      </button>
      <Feedback state={state} />
      {secret ? (
        <div className="rounded-md border border-amber-200 bg-amber-50 p-3">
          <label htmlFor="token-secret" className="block text-xs font-medium text-amber-900">
            The token (shown once)
          </label>
          <input id="token-secret" readOnly value={secret} className={`${inputClass} mt-1 font-mono`} onFocus={(e) => e.currentTarget.select()} data-testid="token-secret" />
        </div>
      ) : null}
    </form>
  );
}
