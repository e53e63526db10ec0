import { expect, test } from '@playwright/test';
import { completedBackup } from '../api.ts';
import { signIn, tenantPath } from '../helpers.ts';
import { readState, sql } from '../stack.ts';
import { closeDb } from '../../lib/db/client.ts';
import { createDemoTenant } from '../../lib/testing/tenant-data.ts';

const TENANT = { id: 'leaving-clinic', name: 'Leaving Clinic', schemaName: 'leaving_clinic', plan: 'advanced', patients: 20 } as const;

test.describe.configure({ mode: 'serial' });

test('removing a tenant: erasure refused while a backup is on legal hold; removal keeps the backups listed; then erasure works', async ({ browser, page, request }) => {
  const url = readState().databaseUrl;
  await createDemoTenant(url, TENANT);
  await closeDb(url);
  const backupId = await completedBackup(request, TENANT.id);

  await signIn(page, 'admin');
  await page.goto(tenantPath(TENANT.id));
  const row = page.getByTestId(`backup-row-${backupId}`);
  await row.getByRole('button', { name: 'Place legal hold' }).click();
  await expect(row.getByRole('button', { name: 'Lift legal hold' })).toBeVisible();

  // Erasure while held: refused, naming the held backup; nothing changes.
  await page.getByTestId('remove-tenant').click();
  const dialog = page.getByRole('dialog', { name: `Remove ${TENANT.name}` });
  await expect(dialog).toBeVisible();
  await dialog.getByLabel('Also delete all its backups now (erasure)').check();
  await expect(dialog.getByTestId('remove-tenant-explanation')).toContainText('1 is on hold now');
  const confirm = dialog.getByLabel(/to confirm/);
  const submit = dialog.getByTestId('remove-tenant-submit');
  await confirm.fill('Leaving Clinic');
  await expect(submit).toBeDisabled();
  await confirm.fill(TENANT.id);
  await expect(submit).toBeEnabled();
  await submit.click();
  await expect(dialog.getByRole('alert')).toContainText(`on legal hold (${backupId})`);
  expect(await sql(`select 1 from tenants where id = $1`, [TENANT.id])).toHaveLength(1);
  expect(await sql(`select status from backup_jobs where id = $1`, [backupId])).toEqual([{ status: 'completed' }]);
  expect(await sql(`select 1 from audit_log where action = 'tenant.remove_refused' and target = $1 and actor = 'admin@strata.test'`, [TENANT.id])).toHaveLength(1);

  // Removal without erasure: the tenant leaves the platform, its backups stay listed.
  await dialog.getByLabel('Also delete all its backups now (erasure)').uncheck();
  await expect(dialog.getByTestId('remove-tenant-explanation')).toContainText('stay listed and expire by policy');
  await dialog.getByTestId('remove-tenant-submit').click();
  await expect(dialog.getByTestId('remove-tenant-outcome')).toContainText('Removed');
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(page.getByTestId('tenant-removed')).toContainText('Removed from the platform');
  await expect(row).toContainText('completed');
  expect(await sql(`select 1 from tenants where id = $1`, [TENANT.id])).toHaveLength(0);
  expect(await sql(`select 1 from backup_schedules where tenant_id = $1`, [TENANT.id])).toHaveLength(0);
  expect(await sql(`select 1 from tenant_state where tenant_id = $1 and removed_at is not null`, [TENANT.id])).toHaveLength(1);
  expect(await sql(`select 1 from audit_log where action = 'tenant.remove' and target = $1 and actor = 'admin@strata.test'`, [TENANT.id])).toHaveLength(1);

  // With the hold lifted, the erasure deletes every backup now.
  await row.getByRole('button', { name: 'Lift legal hold' }).click();
  await expect(row.getByRole('button', { name: 'Place legal hold' })).toBeVisible();
  await page.getByTestId('remove-tenant').click();
  const erase = page.getByRole('dialog', { name: `Erase the backups of ${TENANT.name}` });
  await erase.getByLabel(/to confirm/).fill(TENANT.id);
  const captured = page.waitForRequest((r) => r.method() === 'POST' && r.headers()['next-action'] !== undefined);
  await erase.getByTestId('remove-tenant-submit').click();
  const req = await captured;
  await expect(erase.getByTestId('remove-tenant-outcome')).toContainText('1 backup deleted');
  expect(await sql(`select status from backup_jobs where id = $1`, [backupId])).toEqual([{ status: 'deleted' }]);
  expect(await sql(`select 1 from audit_log where action = 'tenant.remove_purge' and target = $1`, [TENANT.id])).toHaveLength(1);
  await erase.getByRole('button', { name: 'Close' }).click();
  await expect(row).toContainText('deleted');
  await sql(`drop schema ${TENANT.schemaName} cascade`);

  // The same server-action call replayed with a viewer's session is refused on the server.
  const viewer = await browser.newContext();
  const viewerPage = await viewer.newPage();
  await signIn(viewerPage, 'viewer');
  const headers = req.headers();
  const res = await viewer.request.post(req.url(), {
    headers: { 'next-action': headers['next-action']!, 'content-type': headers['content-type']!, accept: 'text/x-component' },
    data: req.postDataBuffer()!,
  });
  expect(await res.text()).toContain('this needs the admin role');
  await viewer.close();
  expect(await sql(`select 1 from audit_log where target = $1 and actor = 'viewer@strata.test'`, [TENANT.id])).toHaveLength(0);
});

test('a viewer sees no remove button', async ({ page }) => {
  await signIn(page, 'viewer');
  await page.goto(tenantPath('harbor-care'));
  await expect(page.getByRole('heading', { name: 'Harbor Care' })).toBeVisible();
  await expect(page.getByTestId('remove-tenant')).toHaveCount(0);
});
