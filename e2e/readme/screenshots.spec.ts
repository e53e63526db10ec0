// The README's screenshots, from the demo's data: the same six tenants and the same real backups
// `npm run demo` seeds (lib/demo/seed.ts), on the e2e stack before any other spec has run.
import { expect, test } from '@playwright/test';
import { closeDb, getDb } from '../../lib/db/client.ts';
import { DEMO_TENANTS, seedDemoData } from '../../lib/demo/seed.ts';
import { parseConfig } from '../../lib/env.ts';
import { createStores } from '../../lib/storage/registry.ts';
import { signIn, tenantPath } from '../helpers.ts';
import { readState, sql } from '../stack.ts';

test.describe.configure({ mode: 'serial' });

// `npm run screenshots` writes the README's pictures; every other run (npm test) takes the same
// screenshots into test-results/, so the pages are exercised without rewriting tracked files.
const SHOTS = process.env.STRATA_SCREENSHOTS_DIR ?? 'test-results/readme-screenshots';
const BIG = DEMO_TENANTS[0]!;

test.beforeAll(async () => {
  test.setTimeout(300_000);
  const { env } = readState();
  const config = parseConfig(env);
  const db = getDb(config.DATABASE_URL);
  const stores = createStores(config);
  try {
    await seedDemoData({ db, config, stores }, () => {});
  } finally {
    await closeDb(config.DATABASE_URL);
  }
});

test('overview, tenant page, restore dialog, cost page and phone width from the demo data', async ({ page }) => {
  await signIn(page, 'admin');
  for (const t of DEMO_TENANTS) await expect(page.getByTestId(`tenant-row-${t.id}`)).toContainText(t.name);
  await expect(page.getByText('No backups or restores are running.')).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/demo-overview.png`, fullPage: true });

  const [newest] = await sql<{ id: string }>(
    `select id from backup_jobs where tenant_id = $1 and status = 'completed' and storage_tier = 's3_standard' order by completed_at desc limit 1`,
    [BIG.id],
  );
  await page.goto(tenantPath(BIG.id));
  await expect(page.getByTestId(`backup-row-${newest!.id}`)).toContainText('completed');
  await expect(page.getByText('No backups or restores are running.')).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/demo-tenant.png`, fullPage: true });

  await page.getByTestId(`restore-${newest!.id}`).click();
  const dialog = page.getByRole('dialog', { name: `Restore ${BIG.name}` });
  await expect(dialog.getByTestId('restore-explanation')).toContainText('moved aside and kept for undo until');
  await dialog.getByLabel(/to confirm/).fill(BIG.name);
  await expect(dialog.getByTestId('restore-submit')).toBeEnabled();
  await page.screenshot({ path: `${SHOTS}/demo-restore.png` });
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();

  await page.goto('/cost');
  await expect(page.getByTestId('chart-cost').getByRole('img')).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/demo-cost.png`, fullPage: true });

  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto('/');
  await expect(page.getByTestId(`tenant-row-${BIG.id}`)).toBeVisible();
  await expect(page.getByText('No backups or restores are running.')).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/demo-phone.png`, fullPage: true });
});
