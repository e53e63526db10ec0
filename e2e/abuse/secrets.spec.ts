// Secrets (database password, B2 key, AUTH_SECRET, the age identity, API tokens) never appear in the
// server and worker logs, job errors, the audit log, API answers or the dashboard — scanned after
// runs that fail on purpose (a restore of a backup whose object was deleted; the fuzz before this).
import { expect, test } from '@playwright/test';
import { catalogTexts, leakedSecrets } from '../../lib/reliability/harness.ts';
import { bearer, completedBackup, restoreStatus } from '../api.ts';
import { signIn } from '../helpers.ts';
import { sql } from '../stack.ts';
import { db, readLog, stackSecrets, tally } from './support.ts';

test('no secret in logs, job errors, audit log, API answers or pages after failures', async ({ page, request }) => {
  const started = Date.now();
  const texts: Record<string, string> = {};
  // A restore that fails on purpose: its object deleted behind Strata's back.
  const id = await completedBackup(request, 'harbor-care');
  const [row] = await sql<{ backup_location: string }>(`select backup_location from backup_jobs where id = $1`, [id]);
  await sql(`update backup_jobs set backup_location = replace(backup_location, 'dump.zst.age', 'gone.zst.age') where id = $1`, [id]);
  const res = await request.post('/api/backups/restore', {
    headers: bearer('admin'),
    data: { tenant_id: 'harbor-care', backup_job_id: id, mode: 'clone', target_schema: 'harbor_secret_probe', confirm: 'harbor_secret_probe' },
  });
  texts['POST /api/backups/restore'] = await res.text();
  if (res.status() === 202) {
    const restoreId = (await res.json()).restore.id;
    await expect.poll(() => restoreStatus(request, restoreId), { timeout: 90_000 }).toBe('failed');
    texts['GET /api/restores/:id'] = await (await request.get(`/api/restores/${restoreId}`, { headers: bearer('viewer') })).text();
  }
  await sql(`update backup_jobs set backup_location = $2 where id = $1`, [id, row!.backup_location]);
  texts['GET /api/backups/tenant'] = await (await request.get('/api/backups/tenant/harbor-care', { headers: bearer('viewer') })).text();
  texts['GET /api/dashboard/active'] = await (await request.get('/api/dashboard/active', { headers: bearer('viewer') })).text();

  await signIn(page, 'admin');
  for (const path of ['/', '/tenants', '/tenants/harbor-care', '/schedules', '/policies', '/audit', '/users']) {
    await page.goto(path);
    texts[`page ${path}`] = await page.content();
  }
  texts['next.log'] = readLog('next');
  texts['worker.log'] = readLog('worker');
  Object.assign(texts, await catalogTexts(db()));

  const secrets = stackSecrets();
  expect(Object.keys(secrets), 'the secrets of the stack were found').toEqual(
    expect.arrayContaining(['AUTH_SECRET', 'B2_APPLICATION_KEY', 'age identity', 'signing key (PEM body)', 'signing key (seed, hex)', 'STRATA_RESTORE_DATABASE_URL password']),
  );
  const leaks = leakedSecrets(texts, secrets);
  tally(
    'Secrets in logs, job errors, audit log, API and UI',
    'abuse',
    1,
    { [`${Object.keys(texts).length} places × ${Object.keys(secrets).length} secrets scanned, leaks`]: leaks.length },
    (Date.now() - started) / 1000,
    leaks.length,
  );
  expect(leaks).toEqual([]);
});
