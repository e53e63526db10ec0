// The route-handler wrapper: authenticate, check the role, parse params/query/body with zod,
// replay Idempotency-Key answers, and map every error to {error:{code,message,field?}}.
// Each route file is then a few lines: apiRoute({ role, body }, async (ctx) => ...).
import { and, eq } from 'drizzle-orm';
import type { z } from 'zod';
import type { Db } from '../db/client.ts';
import { idempotencyKeys } from '../db/schema.ts';
import type { Role } from '../domain.ts';
import { appConfig, appDb } from '../db/queries/connection.ts';
import type { Config } from '../env.ts';
import { requireRole, type Actor } from '../auth/session.ts';
import { ApiError, badRequest, fromZod, toApiError } from './errors.ts';

export const MAX_BODY_BYTES = 64 * 1024;

export interface ApiContext<P, Q, B> {
  actor: Actor;
  params: P;
  query: Q;
  body: B;
  db: Db;
  config: Config;
  request: Request;
}

export interface ApiAnswer {
  status?: number;
  body: unknown;
}

interface RouteOptions<P, Q, B> {
  role: Role;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** POSTs: honour Idempotency-Key (a repeat gets the first answer). */
  idempotent?: boolean;
}

type RouteContext = { params: Promise<Record<string, string | string[]>> };

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } });

async function readJsonBody(request: Request): Promise<unknown> {
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/json\b/i.test(type.trim())) {
    throw badRequest('the body must be JSON, sent with Content-Type: application/json', 'content-type');
  }
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) throw new ApiError('too_large', `the body must be at most ${MAX_BODY_BYTES} bytes`);
  // Content-Length can be absent (chunked) or wrong: count while reading.
  const reader = request.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_BODY_BYTES) {
        await reader.cancel().catch(() => {});
        throw new ApiError('too_large', `the body must be at most ${MAX_BODY_BYTES} bytes`);
      }
      chunks.push(value);
    }
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) throw badRequest('the body is empty; send a JSON object');
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('the body is not valid JSON');
  }
}

function parseWith<T>(schema: z.ZodType<T> | undefined, value: unknown, prefix?: string): T {
  if (!schema) return undefined as T;
  const result = schema.safeParse(value);
  if (!result.success) throw fromZod(result.error, prefix);
  return result.data;
}

const IDEMPOTENCY_KEY_RE = /^[\x21-\x7e]{1,200}$/;

export function apiRoute<P = undefined, Q = undefined, B = undefined>(
  opts: RouteOptions<P, Q, B>,
  fn: (ctx: ApiContext<P, Q, B>) => Promise<ApiAnswer>,
) {
  return async (request: Request, routeContext: RouteContext): Promise<Response> => {
    let claimed: { key: string; actor: string; route: string } | null = null;
    const db = appDb();
    try {
      const actor = await requireRole(opts.role, request);
      const rawParams = routeContext?.params ? await routeContext.params : {};
      const params = parseWith(opts.params, rawParams, undefined);
      const query = parseWith(opts.query, Object.fromEntries(new URL(request.url).searchParams), undefined);
      const body = opts.body ? parseWith(opts.body, await readJsonBody(request)) : (undefined as B);

      const key = opts.idempotent ? request.headers.get('idempotency-key') : null;
      if (key !== null) {
        if (!IDEMPOTENCY_KEY_RE.test(key)) throw badRequest('Idempotency-Key must be 1–200 printable ASCII characters', 'idempotency-key');
        const route = `${request.method} ${new URL(request.url).pathname}`;
        // Claim the key first (status 0 = in progress), so two concurrent repeats cannot both act.
        const inserted = await db
          .insert(idempotencyKeys)
          .values({ key, actor: actor.name, route, status: 0, body: {} })
          .onConflictDoNothing()
          .returning({ key: idempotencyKeys.key });
        if (inserted.length === 0) {
          const [first] = await db
            .select()
            .from(idempotencyKeys)
            .where(and(eq(idempotencyKeys.key, key), eq(idempotencyKeys.actor, actor.name), eq(idempotencyKeys.route, route)));
          if (!first || first.status === 0) throw new ApiError('conflict', 'a request with this Idempotency-Key is still being processed');
          return json(first.status, first.body);
        }
        claimed = { key, actor: actor.name, route };
      }

      const answer = await fn({ actor, params, query, body, db, config: appConfig(), request });
      const status = answer.status ?? 200;
      if (claimed) {
        await db
          .update(idempotencyKeys)
          .set({ status, body: answer.body as object })
          .where(and(eq(idempotencyKeys.key, claimed.key), eq(idempotencyKeys.actor, claimed.actor), eq(idempotencyKeys.route, claimed.route)));
      }
      return json(status, answer.body);
    } catch (err) {
      const apiErr = toApiError(err);
      if (claimed) {
        const c = claimed;
        // Errors caused by the request are answers too; a server failure frees the key for a retry.
        if (apiErr.status < 500) {
          await db
            .update(idempotencyKeys)
            .set({ status: apiErr.status, body: apiErr.toBody() })
            .where(and(eq(idempotencyKeys.key, c.key), eq(idempotencyKeys.actor, c.actor), eq(idempotencyKeys.route, c.route)))
            .catch(() => {});
        } else {
          await db
            .delete(idempotencyKeys)
            .where(and(eq(idempotencyKeys.key, c.key), eq(idempotencyKeys.actor, c.actor), eq(idempotencyKeys.route, c.route)))
            .catch(() => {});
        }
      }
      return json(apiErr.status, apiErr.toBody());
    }
  };
}
