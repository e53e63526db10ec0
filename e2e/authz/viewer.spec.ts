import { expect, test } from '@playwright/test';
import { bearer } from '../api.ts';
import { signIn, tenantPath } from '../helpers.ts';
import { sql, USERS } from '../stack.ts';

test('a viewer sees no restore, backup, hold or schedule controls', async ({ page }) => {
  await signIn(page, 'viewer');
  await page.goto(tenantPath('st-anne'));
  await expect(page.getByRole('heading', { name: 'St. Anne Hospital' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Back up now' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: /^Restore/ })).toHaveCount(0);
  await expect(page.getByRole('button', { name: /legal hold/i })).toHaveCount(0);
  await expect(page.getByRole('button', { name: /^(Pause|Resume)/ })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Users & API tokens' })).toHaveCount(0);
});

test('a forged server action and a forged API call as viewer are refused on the server', async ({ browser, page, request }) => {
  // Capture a real "Back up now" server-action request made by an operator…
  await signIn(page, 'operator');
  await page.goto(tenantPath('harbor-care'));
  const captured = page.waitForRequest((r) => r.method() === 'POST' && r.headers()['next-action'] !== undefined);
  await page.getByRole('button', { name: 'Back up now' }).click();
  const req = await captured;
  await expect(page.getByTestId('backup-now-progress')).toBeVisible();

  // …and replay it with a viewer's session.
  const viewer = await browser.newContext();
  const viewerPage = await viewer.newPage();
  await signIn(viewerPage, 'viewer');
  const headers = req.headers();
  const res = await viewer.request.post(req.url(), {
    headers: {
      'next-action': headers['next-action']!,
      'content-type': headers['content-type']!,
      accept: 'text/x-component',
      ...(headers['next-router-state-tree'] ? { 'next-router-state-tree': headers['next-router-state-tree'] } : {}),
    },
    data: req.postDataBuffer()!,
  });
  expect(await res.text()).toContain('this needs the operator role');
  await viewer.close();
  expect(await sql(`select 1 from backup_jobs where requested_by = $1`, [USERS.viewer.email])).toHaveLength(0);

  // The API refuses the viewer's token with 403, anonymous callers with 401.
  const forged = await request.post('/api/backups/create', { headers: bearer('viewer'), data: { tenant_id: 'harbor-care' } });
  expect(forged.status()).toBe(403);
  expect((await forged.json()).error.code).toBe('forbidden');
  const anonymous = await request.post('/api/backups/create', { data: { tenant_id: 'harbor-care' } });
  expect(anonymous.status()).toBe(401);
  expect(await sql(`select 1 from backup_jobs where requested_by in ($1, 'token:e2e-viewer')`, [USERS.viewer.email])).toHaveLength(0);
});
