// A backup whose manifest is not signed (taken before signing existed): listed as unsigned, and restored
// from the dashboard only once an admin has ticked that they trust it. Without that tick the worker refuses
// it, whatever the client sent.
import { expect, test } from '@playwright/test';
import { SIGNATURE_OBJECT } from '../../lib/backup/manifest.ts';
import { parseConfig } from '../../lib/env.ts';
import { createStores } from '../../lib/storage/registry.ts';
import { parseLocation } from '../../lib/storage/types.ts';
import { bearer, completedBackup, restoreStatus } from '../api.ts';
import { signIn, tenantPath } from '../helpers.ts';
import { readState, sql } from '../stack.ts';

const CLONE = 'harbor_unsigned_clone';

test('an unsigned backup is marked as such and restores only after the admin says they trust it', async ({ page, request }) => {
  const backupId = await completedBackup(request, 'harbor-care');
  // What a backup from before signing looks like: no manifest.json.sig, and the catalog does not know either way.
  const [row] = await sql<{ backup_location: string }>(`select backup_location from backup_jobs where id = $1`, [backupId]);
  const location = row!.backup_location;
  const stores = createStores(parseConfig(readState().env));
  await stores.forLocation(location).delete(parseLocation(location).key.replace(/dump\.zst\.age$/, SIGNATURE_OBJECT));
  await sql(`update backup_jobs set signed = null where id = $1`, [backupId]);

  // Asked for without the admin's confirmation, the restore is refused by the worker, naming the reason.
  const plain = await request.post('/api/backups/restore', {
    headers: bearer('admin'),
    data: { tenant_id: 'harbor-care', backup_job_id: backupId, mode: 'clone', target_schema: CLONE, confirm: CLONE },
  });
  expect(plain.status()).toBe(202);
  const plainId = (await plain.json()).restore.id as string;
  await expect.poll(() => restoreStatus(request, plainId), { timeout: 90_000 }).toBe('failed');
  const [refused] = await sql<{ error_message: string }>(`select error_message from restore_jobs where id = $1`, [plainId]);
  expect(refused!.error_message).toMatch(/unsigned/);
  expect(await sql(`select 1 from pg_namespace where nspname = $1`, [CLONE])).toHaveLength(0);

  await signIn(page, 'admin');
  await page.goto(tenantPath('harbor-care'));
  await expect(page.getByTestId(`backup-row-${backupId}`)).toContainText('unsigned');
  await page.getByTestId(`restore-${backupId}`).click();
  const dialog = page.getByRole('dialog', { name: 'Restore Harbor Care' });
  await expect(dialog.getByTestId('restore-unsigned')).toContainText('not signed');
  await dialog.getByLabel(/Clone into a new schema/).check();
  await dialog.getByLabel('New schema name', { exact: true }).fill(CLONE);
  await dialog.getByLabel(/to confirm/).fill(CLONE);
  const submit = dialog.getByTestId('restore-submit');
  await expect(submit, 'the typed confirmation alone is not enough').toBeDisabled();
  await dialog.getByLabel(/I trust this unsigned backup/).check();
  await expect(submit).toBeEnabled();
  await submit.click();

  await expect(dialog.getByTestId('restore-outcome')).toContainText('Restored into', { timeout: 120_000 });
  expect(await sql(`select 1 from pg_namespace where nspname = $1`, [CLONE])).toHaveLength(1);
  const audited = await sql(
    `select 1 from audit_log where action = 'restore.create' and details->>'backup_id' = $1 and (details->>'allow_unsigned')::boolean`,
    [backupId],
  );
  expect(audited).toHaveLength(1);
  await sql(`drop schema "${CLONE}" cascade`);
});
