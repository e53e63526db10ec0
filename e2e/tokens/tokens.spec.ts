import { expect, test } from '@playwright/test';
import { signIn } from '../helpers.ts';
import { sql } from '../stack.ts';

test('an admin creates an API token, it works with its role, and once revoked it is refused', async ({ page, request }) => {
  await signIn(page, 'admin');
  await page.getByRole('link', { name: 'Users & API tokens' }).click();
  await page.getByLabel('Name (what uses it)').fill('ci-nightly');
  await page.locator('#new-token-role').selectOption('operator');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secretField = page.getByTestId('token-secret');
  await expect(secretField).toHaveValue(/^strata_[A-Za-z0-9_-]{43}$/);
  const secret = await secretField.inputValue();
  // Stored hashed only.
  expect(await sql(`select 1 from api_tokens where token_hash = $1`, [secret])).toHaveLength(0);

  const auth = { authorization: `Bearer ${secret}` };
  const created = await request.post('/api/backups/create', { headers: auth, data: { tenant_id: 'harbor-care' } });
  expect(created.status()).toBe(202);
  const body = await created.json();
  expect(body.job).toMatchObject({ tenant_id: 'harbor-care', requested_by: 'token:ci-nightly', storage_tier: 's3_standard', status: 'pending' });
  expect(await sql(`select 1 from audit_log where actor = 'token:ci-nightly' and action = 'backup.create'`)).toHaveLength(1);
  // Operator tokens cannot restore.
  const restore = await request.post('/api/backups/restore', { headers: auth, data: { tenant_id: 'harbor-care', backup_job_id: body.job.id, confirm: 'Harbor Care' } });
  expect(restore.status()).toBe(403);

  await page.reload();
  const row = page.getByTestId('token-row-ci-nightly');
  await expect(row).not.toContainText('never');
  await row.getByRole('button', { name: 'Revoke token ci-nightly' }).click();
  await expect(row).toContainText('revoked');
  const after = await request.get('/api/backups/tenant/harbor-care', { headers: auth });
  expect(after.status()).toBe(401);
  expect(await sql(`select 1 from audit_log where action = 'token.revoke' and target = 'token:ci-nightly'`)).toHaveLength(1);
});
