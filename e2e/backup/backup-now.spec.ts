import { expect, test } from '@playwright/test';
import { signIn, tenantPath } from '../helpers.ts';
import { sql } from '../stack.ts';

test('an operator backs a tenant up now: progress is shown and the backup completes', async ({ page }) => {
  await signIn(page, 'operator');
  await page.goto(tenantPath('north-clinic'));
  await expect(page.getByRole('heading', { name: 'North Valley Clinic' })).toBeVisible();
  await page.getByLabel('Store in').selectOption('s3_ia');
  await page.getByRole('button', { name: 'Back up now' }).click();
  const progress = page.getByTestId('backup-now-progress');
  await expect(progress).toBeVisible();
  await expect(progress).toContainText('Backup completed', { timeout: 90_000 });
  await expect(progress).toContainText(/\d+(\.\d+)? (B|KiB|MiB) stored/);
  const [row] = await sql<{ id: string; status: string; storage_tier: string; requested_by: string; backup_size_bytes: number }>(
    `select id, status, storage_tier, requested_by, backup_size_bytes from backup_jobs where tenant_id = 'north-clinic' order by created_at desc limit 1`,
  );
  expect(row).toMatchObject({ status: 'completed', storage_tier: 's3_ia', requested_by: 'operator@strata.test' });
  // The history (refreshed when the job finished) shows it with its size and checksum.
  const history = page.getByTestId(`backup-row-${row!.id}`);
  await expect(history).toContainText('completed');
  await expect(history).toContainText('S3 Standard-IA');
  const audit = await sql(`select 1 from audit_log where action = 'backup.create' and actor = 'operator@strata.test' and details->>'backup_id' = $1`, [row!.id]);
  expect(audit).toHaveLength(1);
});

test('an incremental backup from the dashboard: the history shows its type and the bytes it added', async ({ page }) => {
  await signIn(page, 'operator');
  await page.goto(tenantPath('north-clinic'));
  await page.getByLabel('Store in').selectOption('b2_cold');
  await page.getByLabel('as', { exact: true }).selectOption('incremental');
  await page.getByRole('button', { name: 'Back up now' }).click();
  const progress = page.getByTestId('backup-now-progress');
  await expect(progress).toContainText('Backup completed', { timeout: 90_000 });
  await expect(progress).toContainText(/stored · \d+(\.\d+)? (B|KiB|MiB) added/);
  const [row] = await sql<{ id: string; backup_type: string; added_bytes: string; backup_size_bytes: string; backup_location: string }>(
    `select id, backup_type, added_bytes, backup_size_bytes, backup_location from backup_jobs where tenant_id = 'north-clinic' order by created_at desc limit 1`,
  );
  expect(row).toMatchObject({ backup_type: 'incremental' });
  expect(row!.backup_location).toMatch(/\/manifest\.json$/);
  expect(Number(row!.added_bytes)).toBeGreaterThan(0);
  expect(Number(row!.added_bytes)).toBeLessThanOrEqual(Number(row!.backup_size_bytes));
  const history = page.getByTestId(`backup-row-${row!.id}`);
  await expect(page.getByTestId(`backup-type-${row!.id}`)).toHaveText('· incremental');
  await expect(history).toContainText(/\+\d+(\.\d+)? (B|KiB|MiB) added/);
});
