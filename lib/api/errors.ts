// Errors with two faces: `message` is safe to show (API body, dashboard), `internal` goes to the
// log only. Anything not recognised becomes a 500 whose body reveals nothing but a reference.
import crypto from 'node:crypto';
import { ZodError } from 'zod';
import { AuthError } from '../auth/errors.ts';
import { maskSecrets } from '../process/redact.ts';
import { databaseFailureOf, operatorDetail } from '../db/errors.ts';
import { processEnv } from '../env.ts';

const secretSource = () => {
  const env = processEnv();
  return {
    DATABASE_URL: env.DATABASE_URL ?? '',
    sourceUrl: env.BACKUP_SOURCE_URL ?? env.DATABASE_URL ?? '',
    AUTH_SECRET: env.AUTH_SECRET,
    B2_APPLICATION_KEY: env.B2_APPLICATION_KEY,
    AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
    AUTH_OIDC_CLIENT_SECRET: env.AUTH_OIDC_CLIENT_SECRET,
  };
};

export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unsupported'
  | 'internal'
  | 'too_large'
  | 'database_error'
  | 'database_unavailable';

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unsupported: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  internal: 500,
  database_error: 500,
  database_unavailable: 503,
};

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    readonly internal?: string,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = STATUS[code];
  }

  toBody() {
    // 413 is reported with the contract's bad_request code (the status says "too large").
    const code = this.code === 'too_large' ? 'bad_request' : this.code;
    return { error: { code, message: this.message, ...(this.field ? { field: this.field } : {}) } };
  }
}

export const badRequest = (message: string, field?: string) => new ApiError('bad_request', message, field);
export const notFound = (message: string) => new ApiError('not_found', message);
export const conflict = (message: string) => new ApiError('conflict', message);

/** The first zod issue, as a 400 naming the field (dotted path). */
export function fromZod(err: ZodError, prefix?: string): ApiError {
  const issue = err.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  const field = [prefix, path].filter(Boolean).join('.') || undefined;
  const message = issue ? (field ? `${field}: ${issue.message}` : issue.message) : 'invalid input';
  return new ApiError('bad_request', message, field);
}

const hasCode = (err: unknown): err is Error & { code: unknown } => err instanceof Error && 'code' in err;

/** Maps anything thrown by a handler or action to an ApiError; unknown errors are logged. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof AuthError) return new ApiError(err.code, err.message);
  if (err instanceof ZodError) return fromZod(err);
  if (err instanceof Error && (err.name === 'RestoreConflictError' || (hasCode(err) && err.code === 'conflict'))) {
    return new ApiError('conflict', err.message);
  }
  if (hasCode(err) && typeof err.code === 'string' && err.code in STATUS && err.code !== 'internal' && !err.code.startsWith('database_')) {
    const field = 'field' in err && typeof err.field === 'string' ? err.field : undefined;
    return new ApiError(err.code as ErrorCode, err.message, field);
  }
  const ref = crypto.randomBytes(4).toString('hex');
  const db = databaseFailureOf(err);
  if (db) {
    // The SQL and its parameter values stay in the server log (secrets masked), never in the body.
    console.error(`[strata] ${db.code} ${ref}: ${maskSecrets(operatorDetail(err), secretSource())}`);
    return new ApiError(db.code, `${db.message} (reference ${ref}; the details are in the server log)`);
  }
  console.error(`[strata] internal error ${ref}:`, err);
  return new ApiError('internal', `something went wrong on the server (reference ${ref}); the details are in the server log`);
}
