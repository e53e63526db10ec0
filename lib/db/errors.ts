// Unexpected database errors, with two faces (STYLE.md #12). Drizzle's own message is
// "Failed query: <SQL>\nparams: <values>": neither the SQL nor the parameter values may reach a
// user (CLI, API, job rows, webhooks). `databaseFailureOf` finds the driver error behind any thrown
// value and gives a stable code, the SQLSTATE and a message safe to show; `operatorDetail` is what
// goes to the log (secrets masked by the caller through lib/process/redact.ts).
export type DatabaseErrorCode = 'database_error' | 'database_unavailable';

export interface DatabaseFailure {
  code: DatabaseErrorCode;
  /** The five-character SQLSTATE, when the server sent one. */
  sqlstate: string | null;
  /** Safe to show: no SQL text, no parameter values. */
  message: string;
}

/** SQLSTATE classes (PostgreSQL Appendix A) as words. */
const CLASSES: Record<string, string> = {
  '08': 'connection exception',
  '0A': 'feature not supported',
  '22': 'data exception',
  '23': 'integrity constraint violation',
  '25': 'invalid transaction state',
  '28': 'invalid authorization',
  '3D': 'invalid catalog name',
  '3F': 'invalid schema name',
  '40': 'transaction rollback',
  '42': 'syntax error or access rule violation',
  '53': 'insufficient resources',
  '54': 'program limit exceeded',
  '55': 'object not in prerequisite state',
  '57': 'operator intervention',
  '58': 'system error',
  P0: 'PL/pgSQL error',
  XX: 'internal error',
};

// Classes whose server messages name objects (tables, columns, roles, settings) but never a
// row's values: their text helps the operator and is shown. Data exceptions and constraint
// violations (22, 23) and raised exceptions (P0) may quote values: only their class is shown.
const MESSAGE_SAFE = new Set(['08', '0A', '25', '28', '3D', '3F', '40', '42', '53', '54', '55', '57', '58']);

const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE']);

type ErrorLike = { message?: unknown; code?: unknown; cause?: unknown; query?: unknown; params?: unknown; severity?: unknown; detail?: unknown; hint?: unknown };

function chain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  for (let e = err as ErrorLike | undefined; e && typeof e === 'object' && out.length < 10; e = e.cause as ErrorLike | undefined) out.push(e);
  return out;
}

const isSqlState = (v: unknown): v is string => typeof v === 'string' && /^[0-9A-Z]{5}$/.test(v);
const isDrizzleQuery = (e: ErrorLike) => typeof e.query === 'string' && 'params' in e;
const isDriverMessage = (m: unknown) =>
  typeof m === 'string' && /^(Connection terminated|timeout expired|Client has encountered a connection error|terminating connection)/i.test(m);

/** The database failure behind `err` (a Drizzle query error, a pg error, a lost connection), or null. */
export function databaseFailureOf(err: unknown): DatabaseFailure | null {
  const links = chain(err);
  const server = links.find((e) => isSqlState(e.code) && typeof e.severity === 'string') ?? links.find((e) => isSqlState(e.code));
  const network = links.find((e) => typeof e.code === 'string' && NETWORK_CODES.has(e.code));
  const driver = links.find((e) => isDriverMessage(e.message));
  const drizzle = links.find(isDrizzleQuery);
  if (server && isSqlState(server.code)) {
    const state = server.code;
    const cls = state.slice(0, 2);
    const words = CLASSES[cls] ?? 'database error';
    const unavailable = UNAVAILABLE_STATES.has(state) || cls === '08';
    const text = MESSAGE_SAFE.has(cls) && typeof server.message === 'string' ? `: ${server.message}` : '';
    return {
      code: unavailable ? 'database_unavailable' : 'database_error',
      sqlstate: state,
      message: `${unavailable ? 'the database is unavailable' : 'a database query failed'} (SQLSTATE ${state}, ${words})${text}`,
    };
  }
  if (network || driver) {
    const what = network ? String(network.code) : String(driver!.message).split('\n')[0]!.slice(0, 120);
    return { code: 'database_unavailable', sqlstate: null, message: `the database is unavailable (${what})` };
  }
  if (drizzle) return { code: 'database_error', sqlstate: null, message: 'a database query failed' };
  return null;
}

/** Drizzle's "Failed query: … params: …" (to the end of the text) replaced by a safe sentence. */
export function scrubQueryText(text: string, replacement = 'a database query failed (the query is in the log)'): string {
  return text.replace(/Failed query: [\s\S]*$/, replacement);
}

/**
 * The database failure when `err` IS one (a Drizzle query error, a driver error, or a message that
 * quotes Drizzle's query text); null for Strata's own errors, which keep their worded message even
 * when a driver error is their cause (e.g. a restore refusal naming what the database lacks).
 */
export function rawDatabaseFailure(err: unknown): DatabaseFailure | null {
  const top = err as ErrorLike | undefined;
  if (!top || typeof top !== 'object') return null;
  const raw = isDrizzleQuery(top) || isSqlState(top.code) || (typeof top.code === 'string' && NETWORK_CODES.has(top.code)) ||
    isDriverMessage(top.message) || (typeof top.message === 'string' && top.message.includes('Failed query: '));
  return raw ? (databaseFailureOf(err) ?? { code: 'database_error', sqlstate: null, message: 'a database query failed' }) : null;
}

/** A message safe to show for anything thrown: a raw database failure by its SQLSTATE, else the error's own message (scrubbed). */
export function describeError(err: unknown): string {
  const raw = rawDatabaseFailure(err);
  if (raw) return raw.message;
  return scrubQueryText(err instanceof Error ? err.message : String(err), databaseFailureOf(err)?.message);
}

/**
 * For the operator's log: the SQL (without parameter values, which may be tenant data), SQLSTATE,
 * server message, detail and hint. Mask secrets before writing it (redactSecrets).
 */
export function operatorDetail(err: unknown): string {
  const links = chain(err);
  const parts: string[] = [];
  const drizzle = links.find(isDrizzleQuery);
  if (drizzle) parts.push(`query: ${String(drizzle.query)} (${Array.isArray(drizzle.params) ? drizzle.params.length : 0} parameters, values not logged)`);
  const server = links.find((e) => isSqlState(e.code));
  if (server) {
    parts.push(`sqlstate: ${String(server.code)}`, `server: ${String(server.message)}`);
    if (typeof server.detail === 'string') parts.push(`detail: ${server.detail}`);
    if (typeof server.hint === 'string') parts.push(`hint: ${server.hint}`);
  } else {
    const last = links[links.length - 1];
    if (last && !isDrizzleQuery(last)) parts.push(`error: ${String(last.message ?? last)}${typeof last.code === 'string' ? ` (${last.code})` : ''}`);
  }
  return parts.join('; ');
}
