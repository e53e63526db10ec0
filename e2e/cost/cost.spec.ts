import { expect, test } from '@playwright/test';
import { completedBackup } from '../api.ts';
import { signIn } from '../helpers.ts';

test('the storage & cost page shows each storage tier, the tenants, the price source and the charts', async ({ page, request }) => {
  // The demo tenant stored once in every storage tier.
  for (const tier of ['s3_standard', 's3_ia', 'b2_cold']) await completedBackup(request, 'st-anne', tier);

  await signIn(page, 'viewer');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Storage & cost' }).click();
  await expect(page.getByRole('heading', { name: 'Storage & cost' })).toBeVisible();

  for (const [tier, label] of [
    ['s3_standard', 'S3 Standard'],
    ['s3_ia', 'S3 Standard-IA'],
    ['b2_cold', 'Backblaze B2'],
  ]) {
    const row = page.getByTestId(`cost-tier-${tier}`);
    await expect(row).toContainText(label);
    await expect(row).toContainText(/\d+(\.\d+)? (KiB|MiB|GiB)/);
  }
  await expect(page.getByTestId('cost-tier-s3_ia')).toContainText('30-day minimum');
  await expect(page.getByTestId('cost-tenant-st-anne')).toContainText('St. Anne Hospital');
  await expect(page.getByTestId('price-source')).toContainText(/List prices as of \d{4}-\d{2}-\d{2}: AWS S3 pricing/);

  // Twelve months in each chart; this month's stored bar has a part per storage tier.
  const stored = page.getByTestId('chart-stored');
  await expect(stored.getByRole('img')).toBeVisible();
  const month = new Intl.DateTimeFormat('en-GB', { month: 'short', year: 'numeric', timeZone: 'UTC' }).format(new Date());
  await expect(stored.locator('rect title', { hasText: `${month} · S3 Standard-IA` })).toHaveCount(1);
  await stored.getByText('Figures').click();
  await expect(stored.locator('tbody tr')).toHaveCount(12);
  const cost = page.getByTestId('chart-cost');
  await expect(cost.getByRole('img')).toBeVisible();
  await expect(cost.locator('figcaption')).toContainText('All in S3 Standard');


  // The overview's savings figure names where its prices come from and links here.
  await page.goto('/');
  await expect(page.getByText(/vs all S3 Standard · list prices as of \d{4}-\d{2}-\d{2}/)).toBeVisible();
});

test('phone width: the cost page fits without sideways scrolling', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, 'viewer');
  await page.goto('/cost');
  await expect(page.getByTestId('chart-cost').getByRole('img')).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});
