import { expect, type Page } from '@playwright/test';
import { USERS } from './stack.ts';

export async function signIn(page: Page, role: keyof typeof USERS): Promise<void> {
  await page.goto('/signin');
  await page.getByLabel('Email').fill(USERS[role].email);
  await page.getByLabel('Password').fill(USERS[role].password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
}

export const tenantPath = (id: string) => `/tenants/${encodeURIComponent(id)}`;
