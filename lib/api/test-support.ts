// Tests of the HTTP API's route handlers (app/api/**/route.ts), called in process as Next.js calls
// them: a test stack whose environment becomes this process's (the routes read their configuration
// and database through lib/env.ts, once per process), a tiny tenant, and API tokens per role.
import { eq } from 'drizzle-orm';
import { createApiToken } from '../auth/tokens.ts';
import { createBackupGroup } from '../backup/create.ts';
import { backupJobs, type BackupJobRow } from '../db/schema.ts';
import type { Role } from '../domain.ts';
import type { Db } from '../db/client.ts';
import { addTinyTenants } from '../jobs/test-support.ts';

/** What this needs of lib/testing/stack.ts's TestStack (started by the test itself). */
interface Stack {
  env: Record<string, string>;
  db: Db;
  stop(): Promise<void>;
}

export interface ApiTestStack {
  stack: Stack;
  /** `Authorization` header values by role. */
  bearer: Record<Role, string>;
  stop(): Promise<void>;
}

/**
 * Makes a started test stack's environment the process's, minus `without` (e.g. STRATA_FILES_BUCKET,
 * to test with tenant files off), and adds the tenants and a token per role. Call before anything
 * reads the configuration (loadConfig caches it).
 */
export async function prepareApiTest(stack: Stack, opts: { tenants: string[]; without?: string[] }): Promise<ApiTestStack> {
  for (const [k, v] of Object.entries(stack.env)) process.env[k] = v;
  for (const k of opts.without ?? []) delete process.env[k];
  await addTinyTenants(stack.db, opts.tenants, { plan: 'basic' });
  const bearer = {} as Record<Role, string>;
  for (const role of ['viewer', 'operator', 'admin'] as const) {
    bearer[role] = `Bearer ${(await createApiToken(stack.db, { name: `api-test-${role}`, role, createdBy: 'test' })).secret}`;
  }
  return { stack, bearer, stop: () => stack.stop() };
}

/** A completed backup row (no dump is taken: for requests refused or queued before any work). */
export async function completedBackupRow(t: ApiTestStack, tenantId: string, files?: { count: number; bytes: number; prefix: string }): Promise<BackupJobRow> {
  const [row] = await createBackupGroup(t.stack.db, { tenantId, storageTiers: ['s3_standard'], origin: 'manual', requestedBy: 'test', includeFiles: Boolean(files) });
  const [done] = await t.stack.db
    .update(backupJobs)
    .set({
      status: 'completed',
      startedAt: new Date(),
      completedAt: new Date(),
      ...(files ? { filesCount: files.count, filesBytes: files.bytes, filesPrefix: files.prefix } : {}),
    })
    .where(eq(backupJobs.id, row!.id))
    .returning();
  return done!;
}

/** What the routes answer: `{error:{code,message,field?}}`, or their resource. */
export interface ApiBody {
  error?: { code: string; message: string; field?: string };
  job?: Record<string, unknown>;
  restore?: Record<string, unknown>;
  [key: string]: unknown;
}

type Handler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;

/** Calls a route handler with a JSON body (or none); answers the status and the parsed body. */
export async function call(
  handler: Handler,
  opts: { method?: string; path: string; auth?: string; body?: unknown; params?: Record<string, string> },
): Promise<{ status: number; body: ApiBody }> {
  const request = new Request(`http://strata.test${opts.path}`, {
    method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
    headers: { ...(opts.auth ? { authorization: opts.auth } : {}), ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const response = await handler(request, { params: Promise.resolve(opts.params ?? {}) });
  return { status: response.status, body: (await response.json()) as ApiBody };
}
