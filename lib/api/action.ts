// Thin, validated server actions: authorize on the server, parse with zod, call one lib function,
// answer { ok, message } or { error, fieldErrors } — never a stack trace, never a trusted role.
import type { z } from 'zod';
import type { Role } from '../domain.ts';
import { toApiError } from './errors.ts';
import { requireRole, type Actor } from '../auth/session.ts';

export interface ActionState<T = unknown> {
  ok?: boolean;
  message?: string;
  error?: string;
  fieldErrors?: Record<string, string>;
  data?: T;
}

type Input = FormData | Record<string, unknown>;

function toObject(input: Input): Record<string, unknown> {
  if (!(input instanceof FormData)) return input ?? {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of input.entries()) if (!k.startsWith('$ACTION')) out[k] = typeof v === 'string' ? v : v.name;
  return out;
}

export function validatedAction<S extends z.ZodType, T>(
  minRole: Role,
  schema: S,
  fn: (input: z.infer<S>, actor: Actor) => Promise<{ message?: string; data?: T } | void>,
) {
  return async (_prev: unknown, input: Input): Promise<ActionState<T>> => {
    try {
      const actor = await requireRole(minRole);
      const parsed = schema.safeParse(toObject(input));
      if (!parsed.success) {
        const fieldErrors: Record<string, string> = {};
        for (const issue of parsed.error.issues) fieldErrors[issue.path.map(String).join('.') || 'form'] ??= issue.message;
        return { error: 'Please correct the highlighted fields.', fieldErrors };
      }
      const result = await fn(parsed.data, actor);
      return { ok: true, message: result?.message, data: result?.data };
    } catch (err) {
      const e = toApiError(err);
      return { error: e.message, ...(e.field ? { fieldErrors: { [e.field]: e.message } } : {}) };
    }
  };
}
