import { expect, test } from '@playwright/test';
import { bearer, restoreStatus } from '../api.ts';
import { sql } from '../stack.ts';

// The HTTP API with a real worker: an incremental backup (backup_type "incremental") is queued, taken
// as chunks, and restored as a clone that holds exactly the tenant's rows.
test('POST /api/backups/create with backup_type incremental, then a clone restore of it through the API', async ({ request }) => {
  const create = await request.post('/api/backups/create', {
    headers: bearer('operator'),
    data: { tenant_id: 'harbor-care', backup_type: 'incremental', storage_tier: 's3_standard' },
  });
  expect(create.status()).toBe(202);
  const queued = (await create.json()).job;
  expect(queued).toMatchObject({ tenant_id: 'harbor-care', backup_type: 'incremental', storage_tier: 's3_standard' });
  await expect
    .poll(async () => (await (await request.get(`/api/backups/jobs/${queued.id}`, { headers: bearer('viewer') })).json()).job.status, { timeout: 90_000 })
    .toBe('completed');
  const job = (await (await request.get(`/api/backups/jobs/${queued.id}`, { headers: bearer('viewer') })).json()).job;
  expect(job.backup_location).toMatch(/^s3:\/\/.+\/manifest\.json$/);
  expect(job.added_bytes).toBeGreaterThan(0);
  expect(job.added_bytes).toBeLessThanOrEqual(job.backup_size_bytes);
  const [refs] = await sql<{ n: number }>(`select count(*)::int as n from backup_chunks where backup_id = $1`, [job.id]);
  expect(refs!.n).toBeGreaterThan(0);

  const target = 'harbor_care_incremental_clone';
  const restore = await request.post('/api/backups/restore', {
    headers: bearer('admin'),
    data: { tenant_id: 'harbor-care', backup_job_id: job.id, mode: 'clone', target_schema: target, confirm: target },
  });
  expect(restore.status()).toBe(202);
  const restoreId = (await restore.json()).restore.id;
  await expect.poll(() => restoreStatus(request, restoreId), { timeout: 90_000 }).toBe('completed');
  const [live] = await sql<{ n: number }>(`select count(*)::int as n from harbor_care.patients`);
  const [clone] = await sql<{ n: number }>(`select count(*)::int as n from ${target}.patients`);
  expect(clone!.n).toBe(live!.n);
  await sql(`drop schema ${target} cascade`);
});
