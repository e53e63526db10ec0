import { expect, test } from '@playwright/test';
import { signIn } from '../helpers.ts';
import { sql } from '../stack.ts';

test('an admin makes a plan\'s dailies incremental on the policies page, after a confirmation that says what changes', async ({ page }) => {
  await signIn(page, 'admin');
  await page.goto('/policies');
  const editor = page.getByTestId('backup-types-premium');
  await expect(page.getByTestId('backup-types-shown-premium')).toHaveText('daily full, weekly full, monthly full');
  const save = editor.getByRole('button', { name: 'Save backup types' });
  await expect(save).toBeDisabled();
  await editor.getByLabel('daily').selectOption('incremental');
  let asked = '';
  page.once('dialog', (d) => {
    asked = d.message();
    void d.accept();
  });
  await save.click();
  await expect(editor.getByRole('status')).toContainText('daily incremental, weekly full, monthly full');
  expect(asked).toContain('daily: full → incremental');
  expect(await sql(`select incremental_origins from backup_retention_policies where tier_id = 'premium'`)).toEqual([{ incremental_origins: ['daily'] }]);
  expect(await sql(`select count(*)::int as n from audit_log where action = 'policy.backup_types' and target = 'premium'`)).toEqual([{ n: 1 }]);
  await page.reload();
  await expect(page.getByTestId('backup-types-shown-premium')).toHaveText('daily incremental, weekly full, monthly full');
  // The later specs expect full backups only.
  await sql(`update backup_retention_policies set incremental_origins = '{}' where tier_id = 'premium'`);
});
