'use client';
// A one-button form bound to a server action: hidden fields, pending state, the answer inline.
import { useActionState } from 'react';
import type { ActionState } from '@/lib/api/action';
import { buttonClass } from './ui';

type Action = (prev: ActionState | null, input: FormData) => Promise<ActionState>;

export function ActionButton({
  action,
  fields,
  label,
  pendingLabel,
  variant = 'small',
  ariaLabel,
  testId,
}: {
  action: Action;
  fields: Record<string, string>;
  label: string;
  pendingLabel?: string;
  variant?: keyof typeof buttonClass;
  ariaLabel?: string;
  testId?: string;
}) {
  const [state, formAction, pending] = useActionState(action, null);
  return (
    <form action={formAction} className="inline-flex flex-col items-start gap-1">
      {Object.entries(fields).map(([k, v]) => (
        <input key={k} type="hidden" name={k} value={v} />
      ))}
      <button type="submit" disabled={pending} className={buttonClass[variant]} aria-label={ariaLabel} data-testid={testId}>
        {pending ? (pendingLabel ?? `${label}…`) : label}
      </button>
      {state?.error ? (
        <span role="alert" className="max-w-xs text-xs text-red-600">
          {state.error}
        </span>
      ) : null}
    </form>
  );
}
