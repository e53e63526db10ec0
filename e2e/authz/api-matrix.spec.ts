// The authorization matrix of every mutation route (anonymous / viewer / operator / admin →
// 401 / 403 / 2xx, each success audited), and the API's answers to bad input.
import { expect, test, type APIRequestContext } from '@playwright/test';
import { bearer, completedBackup, restoreStatus } from '../api.ts';
import { sql } from '../stack.ts';

type Who = 'anonymous' | 'viewer' | 'operator' | 'admin';
const headersFor = (who: Who) => (who === 'anonymous' ? {} : bearer(who));

test.describe.configure({ mode: 'serial' });

let backupId = '';
test.beforeAll(async ({ request }) => {
  backupId = await completedBackup(request, 'harbor-care');
});

const mutations: { route: string; expected: Record<Who, number>; body: () => Record<string, unknown>; audit: string }[] = [
  {
    route: '/api/backups/create',
    expected: { anonymous: 401, viewer: 403, operator: 202, admin: 202 },
    body: () => ({ tenant_id: 'harbor-care', storage_tier: 'b2_cold' }),
    audit: 'backup.create',
  },
  {
    route: '/api/backups/restore',
    expected: { anonymous: 401, viewer: 403, operator: 403, admin: 202 },
    body: () => ({ tenant_id: 'harbor-care', backup_job_id: backupId, mode: 'clone', target_schema: 'harbor_matrix_clone', confirm: 'harbor_matrix_clone' }),
    audit: 'restore.create',
  },
];

for (const m of mutations) {
  for (const who of ['anonymous', 'viewer', 'operator', 'admin'] as const) {
    test(`POST ${m.route} as ${who} → ${m.expected[who]}`, async ({ request }) => {
      const actor = who === 'anonymous' ? 'anonymous' : `token:e2e-${who}`;
      const [before] = await sql<{ n: number }>(`select count(*)::int as n from audit_log where action = $1 and actor = $2`, [m.audit, actor]);
      const res = await request.post(m.route, { headers: headersFor(who), data: m.body() });
      expect(res.status()).toBe(m.expected[who]);
      const body = await res.json();
      const [after] = await sql<{ n: number }>(`select count(*)::int as n from audit_log where action = $1 and actor = $2`, [m.audit, actor]);
      if (res.status() === 202) {
        expect(after!.n).toBe(before!.n + 1);
        if (body.restore) await expect.poll(() => restoreStatus(request, body.restore.id), { timeout: 90_000 }).toMatch(/completed|failed/);
      } else {
        expect(body.error.code).toBe(who === 'anonymous' ? 'unauthorized' : 'forbidden');
        expect(after!.n).toBe(before!.n);
      }
    });
  }
}

for (const route of ['/api/backups/tenant/harbor-care', '/api/backups/schedules/st-anne', '/api/backups/jobs/00000000-0000-4000-8000-000000000000', '/api/restores/00000000-0000-4000-8000-000000000000']) {
  test(`GET ${route}: 401 anonymous, readable by a viewer`, async ({ request }) => {
    expect((await request.get(route)).status()).toBe(401);
    expect([200, 404]).toContain((await request.get(route, { headers: bearer('viewer') })).status());
  });
}

async function post(request: APIRequestContext, route: string, init: { data?: unknown; body?: string; headers?: Record<string, string> }) {
  const res = await request.post(route, {
    headers: { ...bearer('admin'), ...(init.headers ?? {}) },
    ...(init.body !== undefined ? { data: init.body } : { data: init.data }),
  });
  return { status: res.status(), body: await res.json() };
}

test('bad input gets 400/413 naming the field, never 500', async ({ request }) => {
  const wrongType = await post(request, '/api/backups/create', { body: 'tenant_id=st-anne', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  expect(wrongType).toMatchObject({ status: 400, body: { error: { code: 'bad_request', field: 'content-type' } } });
  const badJson = await post(request, '/api/backups/create', { body: '{"tenant_id": ', headers: { 'content-type': 'application/json' } });
  expect(badJson).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
  const huge = await post(request, '/api/backups/create', { body: JSON.stringify({ tenant_id: 'st-anne', pad: 'x'.repeat(200_000) }), headers: { 'content-type': 'application/json' } });
  expect(huge.status).toBe(413);
  const badType = await post(request, '/api/backups/create', { data: { tenant_id: 'st-anne', backup_type: 'differential' } });
  expect(badType).toMatchObject({ status: 400, body: { error: { code: 'bad_request', field: 'backup_type' } } });
  const badTenant = await post(request, '/api/backups/create', { data: { tenant_id: '../etc' } });
  expect(badTenant).toMatchObject({ status: 400, body: { error: { field: 'tenant_id' } } });
  const badTier = await post(request, '/api/backups/create', { data: { tenant_id: 'st-anne', storage_tier: 'glacier' } });
  expect(badTier).toMatchObject({ status: 400, body: { error: { field: 'storage_tier' } } });
  const unknownTenant = await post(request, '/api/backups/create', { data: { tenant_id: 'no-such-tenant' } });
  expect(unknownTenant.status).toBe(404);
  const noConfirm = await post(request, '/api/backups/restore', { data: { tenant_id: 'harbor-care', backup_job_id: backupId } });
  expect(noConfirm).toMatchObject({ status: 400, body: { error: { field: 'confirm' } } });
  const wrongConfirm = await post(request, '/api/backups/restore', { data: { tenant_id: 'harbor-care', backup_job_id: backupId, confirm: 'harbor care' } });
  expect(wrongConfirm).toMatchObject({ status: 400, body: { error: { field: 'confirm' } } });
  const otherTenants = await post(request, '/api/backups/restore', { data: { tenant_id: 'st-anne', backup_job_id: backupId, confirm: 'St. Anne Hospital' } });
  expect(otherTenants.status).toBe(404);
  const cloneNoSchema = await post(request, '/api/backups/restore', { data: { tenant_id: 'harbor-care', backup_job_id: backupId, mode: 'clone', confirm: 'x' } });
  expect(cloneNoSchema).toMatchObject({ status: 400, body: { error: { field: 'target_schema' } } });
  const badId = await request.get('/api/backups/jobs/not-a-uuid', { headers: bearer('viewer') });
  expect(badId.status()).toBe(400);
  expect((await badId.json()).error.field).toBe('id');
  const badLimit = await request.get('/api/backups/tenant/harbor-care?limit=0', { headers: bearer('viewer') });
  expect(badLimit.status()).toBe(400);
  expect((await badLimit.json()).error.field).toBe('limit');
});

test('Idempotency-Key: a repeat returns the first answer and creates nothing new', async ({ request }) => {
  const headers = { ...bearer('operator'), 'idempotency-key': `e2e-${Date.now()}` };
  const first = await request.post('/api/backups/create', { headers, data: { tenant_id: 'harbor-care' } });
  const second = await request.post('/api/backups/create', { headers, data: { tenant_id: 'harbor-care' } });
  expect(first.status()).toBe(202);
  expect(second.status()).toBe(202);
  const a = await first.json();
  expect(await second.json()).toEqual(a);
  expect(await sql(`select 1 from backup_jobs where id = $1`, [a.job.id])).toHaveLength(1);
});

test('a second restore while one is pending or running is a 409 conflict', async ({ request }) => {
  const body = (schema: string) => ({ tenant_id: 'harbor-care', backup_job_id: backupId, mode: 'clone', target_schema: schema, confirm: schema });
  const first = await request.post('/api/backups/restore', { headers: bearer('admin'), data: body('harbor_conflict_a') });
  const second = await request.post('/api/backups/restore', { headers: bearer('admin'), data: body('harbor_conflict_b') });
  expect(first.status()).toBe(202);
  expect(second.status()).toBe(409);
  expect((await second.json()).error.code).toBe('conflict');
  await expect.poll(async () => restoreStatus(request, (await first.json()).restore.id), { timeout: 90_000 }).toMatch(/completed|failed/);
});

test('lists page with next_cursor; schedules, jobs and restores answer in the contract’s shapes', async ({ request }) => {
  const page1 = await (await request.get('/api/backups/tenant/harbor-care?limit=1', { headers: bearer('viewer') })).json();
  expect(page1.backups).toHaveLength(1);
  expect(page1.next_cursor).toEqual(expect.any(String));
  const page2 = await (await request.get(`/api/backups/tenant/harbor-care?limit=1&cursor=${page1.next_cursor}`, { headers: bearer('viewer') })).json();
  expect(page2.backups[0].id).not.toBe(page1.backups[0].id);
  const job = (await (await request.get(`/api/backups/jobs/${backupId}`, { headers: bearer('viewer') })).json()).job;
  expect(job).toMatchObject({ id: backupId, tenant_id: 'harbor-care', status: 'completed', backup_type: 'full', origin: 'manual' });
  expect(job.started_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  expect(typeof job.backup_size_bytes).toBe('number');
  expect(job.backup_location).toMatch(/^s3:\/\//);
  const schedules = (await (await request.get('/api/backups/schedules/st-anne', { headers: bearer('viewer') })).json()).schedules;
  expect(schedules.map((s: { schedule_type: string }) => s.schedule_type).sort()).toEqual(['daily', 'monthly', 'weekly']);
  const openapi = await (await request.get('/api/openapi.json')).json();
  expect(openapi.openapi).toBe('3.1.0');
  expect(Object.keys(openapi.paths)).toContain('/api/backups/restore');
});
