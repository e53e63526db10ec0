import { expect, test } from '@playwright/test';
import { completedBackup } from '../api.ts';
import { signIn, tenantPath } from '../helpers.ts';
import { sql } from '../stack.ts';

test.describe.configure({ mode: 'serial' });

test('restore in place brings back the data changed after the backup; undo switches back', async ({ page, request }) => {
  const backupId = await completedBackup(request, 'st-anne');
  const [before] = await sql<{ n: number }>(`select count(*)::int as n from st_anne.patients`);
  // Changes after the backup: the restore must undo them.
  await sql(`update st_anne.patients set last_name = 'CHANGED-AFTER-BACKUP' where id <= 10`);
  await sql(`delete from st_anne.prescriptions`);
  await sql(`insert into st_anne.practitioners (id, full_name, specialty, license_no) values (999999, 'Dr. Added Later', 'general practice', 'LATE-999999')`);

  await signIn(page, 'admin');
  await page.goto(tenantPath('st-anne'));
  await page.getByTestId(`restore-${backupId}`).click();
  const dialog = page.getByRole('dialog', { name: 'Restore St. Anne Hospital' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId('restore-explanation')).toContainText('moved aside and kept for undo until');
  await expect(dialog).toContainText('S3 Standard');
  const confirm = dialog.getByLabel(/to confirm/);
  const submit = dialog.getByTestId('restore-submit');

  // A wrong (or almost right) confirmation keeps the button disabled.
  await confirm.fill('st. anne hospital');
  await expect(submit).toBeDisabled();
  await confirm.fill('St. Anne Hospita');
  await expect(submit).toBeDisabled();
  await confirm.fill('St. Anne Hospital');
  await expect(submit).toBeEnabled();

  // Esc closes the dialog (keyboard use) and focus returns to the button that opened it.
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId(`restore-${backupId}`)).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(dialog).toBeVisible();
  await dialog.getByLabel(/to confirm/).fill('St. Anne Hospital');
  await dialog.getByTestId('restore-submit').click();

  await expect(dialog.getByTestId('restore-outcome')).toContainText('Restored into', { timeout: 120_000 });
  const changed = await sql(`select 1 from st_anne.patients where last_name = 'CHANGED-AFTER-BACKUP'`);
  expect(changed).toHaveLength(0);
  const [after] = await sql<{ n: number }>(`select count(*)::int as n from st_anne.patients`);
  expect(after!.n).toBe(before!.n);
  expect((await sql(`select 1 from st_anne.prescriptions limit 1`)).length).toBe(1);
  expect(await sql(`select 1 from st_anne.practitioners where full_name = 'Dr. Added Later'`)).toHaveLength(0);
  const audit = await sql(`select 1 from audit_log where action = 'restore.create' and actor = 'admin@strata.test' and details->>'backup_id' = $1`, [backupId]);
  expect(audit).toHaveLength(1);

  // Undo: the moved-aside copy (with the later changes) becomes live again.
  await dialog.getByRole('button', { name: 'Close' }).click();
  await page.getByTestId('undo-restore').click();
  await expect
    .poll(async () => (await sql(`select 1 from st_anne.patients where last_name = 'CHANGED-AFTER-BACKUP'`)).length, { timeout: 120_000 })
    .toBe(10);
  expect(await sql(`select 1 from st_anne.practitioners where full_name = 'Dr. Added Later'`)).toHaveLength(1);
  await page.reload();
  await expect(page.getByTestId('restores')).toContainText('undone');
});
