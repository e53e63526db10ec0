// Abuse of the HTTP API and server actions of the running app (e2e global setup):
// - a fuzz of ≥ 1,000 generated requests (fast-check) over every route: wrong methods, types and
//   content types, missing and extra fields, huge bodies, hostile path parameters → never a 500,
//   always {"error":{code,message}} on 4xx, and no unhandled error in the server log;
// - hostile tenant ids, schema names and backup ids in bodies, paths and a replayed server action;
// - two admins restoring the same tenant at the same instant → one 202, one 409.
import crypto from 'node:crypto';
import { expect, test, type APIRequestContext } from '@playwright/test';
import fc from 'fast-check';
import { createApiToken } from '../../lib/auth/tokens.ts';
import { hostileValues } from '../../lib/reliability/hostile.ts';
import { runCase, TRIALS } from '../../lib/reliability/harness.ts';
import { bearer, completedBackup, restoreStatus } from '../api.ts';
import { signIn, tenantPath } from '../helpers.ts';
import { sql } from '../stack.ts';
import { db, readLog, serverErrors, tally } from './support.ts';

test.describe.configure({ mode: 'serial' });

const FUZZ_REQUESTS = Math.max(1000, TRIALS * 100);
const HOSTILE = hostileValues('/tmp/strata-e2e-pwned');
const UUID0 = '00000000-0000-4000-8000-000000000000';

let backupId = '';
let logStart = 0;
test.beforeAll(async ({ request }) => {
  logStart = readLog('next').length;
  backupId = await completedBackup(request, 'harbor-care');
});

const hostile = fc.oneof(
  fc.constantFrom(...HOSTILE, '', UUID0, 'harbor-care', '%', '%00', '..', '\u0000', '\uFFFF', '😀'.repeat(300)),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.uuid(),
);
const value = fc.oneof(hostile, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(hostile, { maxLength: 3 }), fc.object({ maxDepth: 2 }));

interface Fuzzed {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  path: string;
  contentType?: string;
  body?: string;
  auth: 'admin' | 'operator' | 'viewer' | 'none' | 'garbage';
}

const routes = (p: string) => [
  `/api/backups/tenant/${p}`,
  `/api/backups/schedules/${p}`,
  `/api/backups/jobs/${p}`,
  `/api/restores/${p}`,
];
const fuzzed: fc.Arbitrary<Fuzzed> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH'),
  target: fc.oneof(
    fc.constantFrom('/api/backups/create', '/api/backups/restore', '/api/dashboard/active', '/api/openapi.json'),
    hostile.chain((p) => fc.constantFrom(...routes(encodeURIComponent(p)))),
  ),
  // Query values stay under ~1 kB each: a redirect echoing a longer URL outgrows the client's 16 kB header limit.
  query: fc.dictionary(fc.constantFrom('limit', 'cursor', 'tenant', 'x'), hostile.map((v) => encodeURIComponent(v.slice(0, 1000))), { maxKeys: 3 }),
  body: fc.oneof(
    // the right fields with wrong types or hostile values, some missing, some extra
    fc.record(
      {
        tenant_id: value,
        backup_type: fc.oneof(fc.constantFrom('full', 'incremental'), value),
        storage_tier: fc.oneof(fc.constantFrom('s3_standard', 's3_ia', 'b2_cold', 'glacier'), value),
        backup_job_id: fc.oneof(fc.constant(UUID0), value),
        mode: fc.oneof(fc.constantFrom('in_place', 'clone'), value),
        target_schema: value,
        confirm: value,
        extra: value,
      },
      { requiredKeys: [] },
    ).map((o) => JSON.stringify(o)),
    fc.json(),
    fc.string({ maxLength: 200 }),
    fc.constantFrom('{"tenant_id": ', '[]', 'null', '"x"', '{"__proto__": {"admin": true}}', '{"constructor": {"prototype": {}}}'),
    fc.integer({ min: 65_000, max: 300_000 }).map((n) => JSON.stringify({ tenant_id: 'x'.repeat(n) })),
  ),
  contentType: fc.option(fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'APPLICATION/JSON')),
  auth: fc.constantFrom('admin', 'operator', 'viewer', 'none', 'garbage'),
}).map(({ method, target, query, body, contentType, auth }) => {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, decodeURIComponent(v)])).toString();
  return { method, path: `${target}${qs ? `?${qs}` : ''}`, body: method === 'GET' ? undefined : body, contentType: contentType ?? undefined, auth } as Fuzzed;
});

async function send(request: APIRequestContext, f: Fuzzed) {
  const headers: Record<string, string> = {};
  if (f.auth === 'garbage') headers.authorization = 'Bearer strata_' + 'A'.repeat(43);
  else if (f.auth !== 'none') Object.assign(headers, bearer(f.auth));
  if (f.contentType) headers['content-type'] = f.contentType;
  const res = await request.fetch(f.path, { method: f.method, headers, data: f.body, maxRedirects: 0, failOnStatusCode: false });
  return { status: res.status(), text: await res.text(), type: res.headers()['content-type'] ?? '' };
}

test(`API fuzz: ${FUZZ_REQUESTS} generated requests over every route, no 500, no unhandled error`, async ({ request }) => {
  test.setTimeout(600_000);
  const started = Date.now();
  const openapi = await (await request.get('/api/openapi.json')).json();
  const documented = Object.keys(openapi.paths as object);
  const samples = fc.sample(fuzzed, { numRuns: FUZZ_REQUESTS, seed: Number(process.env.STRATA_CHAOS_SEED ?? 42) });
  // Every documented route at least once with a hostile path parameter.
  for (const p of documented) samples.push({ method: 'POST', path: p.replace(/\{[^}]+\}/g, encodeURIComponent(`x'; drop table tenants; --`)), body: '{}', contentType: 'application/json', auth: 'admin' });
  const byStatus: Record<string, number> = {};
  const fiveHundreds: string[] = [];
  const shapeless: string[] = [];
  for (let i = 0; i < samples.length; i += 8) {
    const batch = await Promise.all(samples.slice(i, i + 8).map(async (f) => ({ f, r: await send(request, f) })));
    for (const { f, r } of batch) {
      const cls = `${Math.floor(r.status / 100)}xx`;
      byStatus[cls] = (byStatus[cls] ?? 0) + 1;
      if (r.status >= 500) fiveHundreds.push(`${f.method} ${f.path.slice(0, 120)} (${f.contentType}) → ${r.status} ${r.text.slice(0, 200)}`);
      else if (r.status >= 400 && r.type.includes('json')) {
        const body = JSON.parse(r.text);
        if (!body?.error?.code || !body?.error?.message) shapeless.push(`${f.method} ${f.path.slice(0, 80)} → ${r.text.slice(0, 120)}`);
      }
    }
  }
  const errors = serverErrors(logStart);
  tally(
    'API fuzz (generated requests, every route)',
    'abuse',
    samples.length,
    { ...Object.fromEntries(Object.entries(byStatus).map(([k, v]) => [`HTTP ${k}`, v])), 'unhandled errors in the server log': errors.length },
    (Date.now() - started) / 1000,
    // A request answered 5xx or with a shapeless error, and each unhandled error logged, violates.
    fiveHundreds.length + shapeless.length + errors.length,
  );
  expect(fiveHundreds, 'no 500').toEqual([]);
  expect(shapeless, 'every JSON 4xx is {"error":{code,message}}').toEqual([]);
  expect(errors, 'no unhandled error in the server log').toEqual([]);
  // Nothing was created for a hostile tenant.
  expect(await sql(`select tenant_id from backup_jobs where tenant_id !~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'`)).toEqual([]);
  expect(await sql(`select 1 from information_schema.tables where table_name = 'tenants'`)).toHaveLength(1);
});

test('hostile tenant ids, schema names and backup ids through the API: clear 4xx naming the field', async ({ request }) => {
  await runCase('Hostile ids and names through the API', 'abuse', async (i) => {
    const h = HOSTILE[i]!;
    const outcomes: string[] = [];
    const count = (k: string) => outcomes.push(k);
    const create = await request.post('/api/backups/create', { headers: bearer('admin'), data: { tenant_id: h } });
    expect(create.status(), `create ${JSON.stringify(h.slice(0, 30))}`).toBe(400);
    expect((await create.json()).error.field).toBe('tenant_id');
    count('tenant_id in a body → 400 naming tenant_id');
    const restore = await request.post('/api/backups/restore', { headers: bearer('admin'), data: { tenant_id: 'harbor-care', backup_job_id: h, confirm: 'Harbor Care' } });
    expect(restore.status()).toBe(400);
    expect((await restore.json()).error.field).toBe('backup_job_id');
    count('backup id in a body → 400 naming backup_job_id');
    const clone = await request.post('/api/backups/restore', {
      headers: bearer('admin'),
      data: { tenant_id: 'harbor-care', backup_job_id: backupId, mode: 'clone', target_schema: h, confirm: h },
    });
    // A valid identifier is a legal schema name (taken literally, as the clone's name): 202, else 400.
    expect([202, 400]).toContain(clone.status());
    if (clone.status() === 202) {
      const id = (await clone.json()).restore.id;
      await expect.poll(() => restoreStatus(request, id), { timeout: 90_000 }).toMatch(/completed|failed/);
      expect(await sql(`select 1 from pg_namespace where nspname = $1`, [h])).toHaveLength(1);
      await sql(`drop schema if exists "${h.replaceAll('"', '""')}" cascade`);
      count('schema name in a body → clone into exactly that name');
    } else {
      expect((await clone.json()).error.field).toBe('target_schema');
      count('schema name in a body → 400 naming target_schema');
    }
    for (const path of [`/api/backups/tenant/${encodeURIComponent(h)}`, `/api/backups/schedules/${encodeURIComponent(h)}`, `/api/backups/jobs/${encodeURIComponent(h)}`, `/api/restores/${encodeURIComponent(h)}`]) {
      const res = await request.get(path, { headers: bearer('viewer') });
      expect(res.status(), path.slice(0, 80)).toBeGreaterThanOrEqual(400);
      expect(res.status()).toBeLessThan(500);
      count(`in a path → ${res.status()}`);
    }
    expect(await sql(`select 1 from information_schema.tables where table_name = 'tenants'`)).toHaveLength(1);
    return outcomes;
  }, HOSTILE.length);
});

test('hostile tenant ids through a replayed server action: refused, never a 500', async ({ page }) => {
  await signIn(page, 'operator');
  await page.goto(tenantPath('harbor-care'));
  const captured = page.waitForRequest((r) => r.method() === 'POST' && r.headers()['next-action'] !== undefined);
  await page.getByRole('button', { name: 'Back up now' }).click();
  const req = await captured;
  const original = req.postData()!;
  expect(original).toContain('harbor-care');
  const headers = req.headers();
  await runCase('Hostile ids through a server action', 'abuse', async (i) => {
    const h = HOSTILE[i]!;
    const forged = original.replace('"harbor-care"', JSON.stringify(h));
    const res = await page.request.post(req.url(), {
      headers: { 'next-action': headers['next-action']!, 'content-type': headers['content-type']!, accept: 'text/x-component' },
      data: forged,
    });
    expect(res.status(), JSON.stringify(h.slice(0, 30))).toBeLessThan(500);
    const text = await res.text();
    expect(text).not.toMatch(/\n\s+at |node:internal/);
    expect(await sql(`select tenant_id from backup_jobs where tenant_id !~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'`)).toEqual([]);
    return `HTTP ${res.status()}, refused`;
  }, HOSTILE.length);
});

test('two admins restoring the same tenant at the same instant: one 202, the other 409', async ({ request }) => {
  test.setTimeout(60_000 + TRIALS * 10_000);
  const second = (await createApiToken(db(), { name: `e2e-admin-b-${crypto.randomBytes(3).toString('hex')}`, role: 'admin', createdBy: 'e2e-abuse' })).secret;
  await runCase('Two admins restore the same tenant at once (API)', 'abuse', async (i) => {
    const body = (schema: string) => ({ tenant_id: 'harbor-care', backup_job_id: backupId, mode: 'clone', target_schema: schema, confirm: schema });
    const [a, b] = await Promise.all([
      request.post('/api/backups/restore', { headers: bearer('admin'), data: body(`harbor_race_a${i}`) }),
      request.post('/api/backups/restore', { headers: { authorization: `Bearer ${second}` }, data: body(`harbor_race_b${i}`) }),
    ]);
    const statuses = [a.status(), b.status()].sort();
    expect(statuses).toEqual([202, 409]);
    const loser = a.status() === 409 ? a : b;
    expect((await loser.json()).error.code).toBe('conflict');
    const winner = a.status() === 202 ? a : b;
    await expect.poll(async () => restoreStatus(request, (await winner.json()).restore.id), { timeout: 90_000 }).toMatch(/completed|failed/);
    return 'one 202, one 409 conflict';
  });
});
