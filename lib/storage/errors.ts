// Error helpers shared by the backends: how to read an HTTP status off SDK/axios errors, and the
// errors the stores raise themselves (missing objects, aborted uploads, short writes).

/** Raised by a store when the object it was asked for does not exist. */
export class ObjectNotFoundError extends Error {
  readonly code = 'not_found';
  constructor(readonly location: string, options?: { cause?: unknown }) {
    super(`object not found: ${location}`, options);
    this.name = 'ObjectNotFoundError';
  }
}

/** The stored object does not have the size that was sent: never leave such an object behind. */
export class SizeMismatchError extends Error {
  constructor(readonly location: string, readonly sent: number, readonly stored: number | undefined) {
    super(`stored object ${location} has ${stored ?? 'no'} bytes, ${sent} were sent`);
    this.name = 'SizeMismatchError';
  }
}

/** The error a put rejects with when its signal fires (the signal's reason when that is an Error). */
export function abortErrorFrom(signal: AbortSignal): Error {
  if (signal.reason instanceof Error) return signal.reason;
  const err = new Error('upload aborted');
  err.name = 'AbortError';
  return err;
}

export function isAbortError(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'AbortError' || (err as { code?: unknown } | null)?.code === 'ABORT_ERR';
}

/** The HTTP status of an AWS SDK error (`$metadata.httpStatusCode`) or an axios error (`response.status`). */
export function httpStatusOf(err: unknown): number | undefined {
  const e = err as { $metadata?: { httpStatusCode?: number }; response?: { status?: number }; status?: unknown } | null;
  return e?.$metadata?.httpStatusCode ?? e?.response?.status ?? (typeof e?.status === 'number' ? e.status : undefined);
}

/** Statuses that say the request itself is wrong: sending it again cannot help. 408 and 429 are absent on purpose. */
export function isPermanentStatus(status: number | undefined): boolean {
  return status !== undefined && ((status >= 400 && status < 500 && status !== 408 && status !== 429) || status === 501);
}
