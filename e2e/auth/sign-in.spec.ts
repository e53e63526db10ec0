import { expect, test } from '@playwright/test';
import { signIn } from '../helpers.ts';
import { sql, USERS } from '../stack.ts';

test('pages need a session: an anonymous visit lands on the sign-in page', async ({ page }) => {
  await page.goto('/tenants');
  await expect(page).toHaveURL(/\/signin\?callbackUrl=%2Ftenants/);
  await expect(page.getByRole('heading', { name: 'Sign in to Strata' })).toBeVisible();
});

test('a wrong password is refused and audited; the right one signs in; sign-out ends the session', async ({ page }) => {
  await page.goto('/signin');
  await page.getByLabel('Email').fill(USERS.admin.email);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.locator('form [role=alert]')).toHaveText('Email or password is incorrect.');
  const failures = await sql(`select details from audit_log where action = 'auth.sign_in_failed' and target = $1`, [USERS.admin.email]);
  expect(failures.length).toBeGreaterThan(0);

  await signIn(page, 'admin');
  await expect(page.getByText(USERS.admin.email).first()).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).first().click();
  await page.waitForURL(/\/signin/);
  await expect(page.getByRole('heading', { name: 'Sign in to Strata' })).toBeVisible();
  await expect.poll(async () => (await page.context().cookies()).some((c) => c.name.endsWith('session-token'))).toBe(false);
  await page.goto('/');
  await expect(page).toHaveURL(/\/signin/);
});

test('five failures for one email lock it for 15 minutes, even with the right password', async ({ page }) => {
  const email = 'throttle-victim@strata.test';
  await sql(`insert into users (email, password_hash, role) select $1, password_hash, 'viewer' from users where email = $2`, [email, USERS.viewer.email]);
  for (let i = 0; i < 5; i++) {
    await page.goto('/signin');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(`wrong-${i}`);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page.locator('form [role=alert]')).toHaveText('Email or password is incorrect.');
  }
  await page.goto('/signin');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(USERS.viewer.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.locator('form [role=alert]')).toContainText('Too many failed sign-ins');
});
