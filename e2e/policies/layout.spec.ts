import { expect, test } from '@playwright/test';
import { signIn } from '../helpers.ts';
import { sql } from '../stack.ts';

test("an admin previews and applies the cost-optimized preset: its stores and its incremental dailies are shown before saving", async ({ page }) => {
  await signIn(page, 'admin');
  await page.goto('/policies');
  const editor = page.getByTestId('layout-premium');
  const save = editor.getByRole('button', { name: 'Save layout' });
  await editor.getByLabel('Copy layout (preset)').selectOption('cost-optimized');
  await expect(save).toBeDisabled();
  await editor.getByRole('button', { name: 'Preview layout' }).click();
  const preview = editor.getByRole('status');
  await expect(preview).toContainText('seed → cost-optimized');
  await expect(preview).toContainText('daily: s3_standard 7 days → s3_standard 1 day + b2_cold 7 days');
  await expect(preview).toContainText('Backup types: daily full → incremental.');
  expect(await sql(`select layout, incremental_origins from backup_retention_policies where tier_id = 'premium'`)).toEqual([
    { layout: 'seed', incremental_origins: [] },
  ]);
  if (process.env.STRATA_SCREENSHOTS_DIR) await editor.screenshot({ path: `${process.env.STRATA_SCREENSHOTS_DIR}/layout-preview.png` });

  await save.click();
  await expect(editor.getByRole('status')).toContainText('cost-optimized layout (s3_standard, b2_cold; incremental: daily)');
  expect(await sql(`select layout, incremental_origins from backup_retention_policies where tier_id = 'premium'`)).toEqual([
    { layout: 'cost-optimized', incremental_origins: ['daily'] },
  ]);
  const audit = await sql(`select details->'backup_types_after'->>'daily' as daily from audit_log where action = 'policy.layout' and target = 'premium'`);
  expect(audit).toEqual([{ daily: 'incremental' }]);
  await page.reload();
  await expect(page.getByTestId('backup-types-shown-premium')).toHaveText('daily incremental, weekly full, monthly full');
  // The later specs expect the seed preset.
  await sql(`update backup_retention_policies set layout = 'seed', incremental_origins = '{}' where tier_id = 'premium'`);
});
