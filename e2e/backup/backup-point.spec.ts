// One dump stored in two storage tiers is one backup point: the history lists it once, with each
// copy's storage tier, status, expiry and legal hold inside that row (issue 14).
import { expect, test } from '@playwright/test';
import { createBackupGroup } from '../../lib/backup/create.ts';
import { closeDb, getDb } from '../../lib/db/client.ts';
import { createDemoTenant } from '../../lib/testing/tenant-data.ts';
import { signIn, tenantPath } from '../helpers.ts';
import { readState, sql } from '../stack.ts';

const TENANT = { id: 'two-copies', name: 'Two Copies Clinic', schemaName: 'two_copies', plan: 'premium', patients: 20 } as const;

test('a backup point stored in S3 and in B2 is one history row listing both copies', async ({ page }) => {
  const url = readState().databaseUrl;
  await createDemoTenant(url, TENANT);
  const rows = await createBackupGroup(getDb(url), { tenantId: TENANT.id, storageTiers: ['s3_standard', 'b2_cold'], origin: 'manual', requestedBy: 'e2e' });
  await closeDb(url);
  const ids = rows.map((r) => r.id);
  const group = rows[0]!.dumpGroup;
  await expect
    .poll(async () => (await sql<{ status: string }>(`select status from backup_jobs where id = any($1::uuid[])`, [ids])).map((r) => r.status).join(' '), { timeout: 90_000 })
    .toBe('completed completed');

  await signIn(page, 'admin');
  await page.goto(tenantPath(TENANT.id));
  const point = page.locator(`tr[data-backup-point="${group}"]`);
  await expect(point).toHaveCount(1);
  await expect(point.getByTestId(`backup-point-${group}`)).toHaveText(/backup point · 2 copies: (S3 Standard \+ Backblaze B2|Backblaze B2 \+ S3 Standard)/);
  for (const id of ids) await expect(point.getByTestId(`backup-copy-${id}`).first()).toContainText('completed');
  await expect(point.getByRole('button', { name: 'Place legal hold (S3 Standard copy)' })).toBeVisible();
  await expect(point.getByRole('button', { name: 'Place legal hold (Backblaze B2 copy)' })).toBeVisible();
  // One Verify and one Restore for the point: each reads the cheapest copy to read.
  await expect(point.getByRole('button', { name: 'Verify' })).toHaveCount(1);
  await page.screenshot({ path: 'test-results/backup-point.png', fullPage: true });
});
