import { expect, test } from '@playwright/test';
import { signIn } from '../helpers.ts';
import { TENANTS } from '../stack.ts';

test('the overview lists every tenant with its protection status, storage, cost and workers', async ({ page }) => {
  await signIn(page, 'viewer');
  for (const t of TENANTS) {
    const row = page.getByTestId(`tenant-row-${t.id}`);
    await expect(row).toContainText(t.name);
    await expect(row).toContainText(t.plan);
    if (t.plan === 'basic') await expect(row).toContainText('not protected by plan');
  }
  await expect(page.getByText('Storage by tier')).toBeVisible();
  await expect(page.getByText('This month’s storage cost')).toBeVisible();
  await expect(page.getByText('Workers alive')).toBeVisible();
  // The worker started by the global setup reports a heartbeat.
  await expect(page.getByText('alive', { exact: true }).first()).toBeVisible();
});

test('the tenants page searches and sorts', async ({ page }) => {
  await signIn(page, 'viewer');
  await page.goto('/tenants');
  await page.getByLabel('Search tenants').fill('harbor');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByRole('link', { name: 'Harbor Care' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'St. Anne Hospital' })).toHaveCount(0);
});

test('phone width: navigation collapses into a menu', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, 'viewer');
  await page.getByRole('button', { name: 'Menu' }).click();
  await page.locator('#mobile-nav').getByRole('link', { name: 'Tenants' }).click();
  await expect(page.getByRole('heading', { name: 'Tenants', exact: true })).toBeVisible();
});
