// Tenant files (design.md "Tenant files") through the dashboard: a backup taken with its files (API,
// includeFiles), shown as "files: N" on the tenant page, cloned with its files into a new prefix from
// the restore dialog, where "Delete objects not in the backup" needs a second confirmation.
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { expect, test } from '@playwright/test';
import { bearer } from '../api.ts';
import { signIn, tenantPath } from '../helpers.ts';
import { readState, sql } from '../stack.ts';

const TENANT = 'harbor-care';
const SOURCE = `tenants/${TENANT}/`;
const CLONE_PREFIX = 'clones/harbor-files-e2e/';
const CLONE_SCHEMA = 'harbor_files_e2e';

function filesBucket() {
  const env = readState().env;
  const s3 = new S3Client({
    endpoint: env.S3_ENDPOINT,
    region: env.AWS_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
  });
  const Bucket = env.STRATA_FILES_BUCKET!;
  return {
    put: (Key: string, Body: string | Buffer) => s3.send(new PutObjectCommand({ Bucket, Key, Body })),
    text: async (Key: string) => (await (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToString()),
    keys: async (Prefix: string) => ((await s3.send(new ListObjectsV2Command({ Bucket, Prefix }))).Contents ?? []).map((o) => o.Key!).sort(),
    remove: (Key: string) => s3.send(new DeleteObjectCommand({ Bucket, Key })),
    close: () => s3.destroy(),
  };
}

test('a backup with files, cloned with them into a new prefix; deleting extra objects needs a second confirmation', async ({ page, request }) => {
  const bucket = filesBucket();
  try {
    await bucket.put(`${SOURCE}invoices/2026-001.txt`, 'invoice one');
    await bucket.put(`${SOURCE}logo.bin`, Buffer.alloc(3000, 7));
    const sourceKeys = await bucket.keys(SOURCE);

    const created = await request.post('/api/backups/create', { headers: bearer('operator'), data: { tenant_id: TENANT, includeFiles: true } });
    expect(created.status()).toBe(202);
    const backupId = (await created.json()).job.id as string;
    await expect
      .poll(async () => (await (await request.get(`/api/backups/jobs/${backupId}`, { headers: bearer('viewer') })).json()).job.status, { timeout: 90_000 })
      .toBe('completed');
    const job = (await (await request.get(`/api/backups/jobs/${backupId}`, { headers: bearer('viewer') })).json()).job;
    expect(job.include_files).toBe(true);
    expect(job.files_count).toBe(sourceKeys.length);

    // Changed after the backup, and an object the backup does not list under the clone's prefix.
    await bucket.put(`${SOURCE}invoices/2026-001.txt`, 'changed later');
    await bucket.put(`${CLONE_PREFIX}stale.txt`, 'not in the backup');

    await signIn(page, 'admin');
    await page.goto(tenantPath(TENANT));
    await expect(page.getByTestId(`backup-files-${backupId}`)).toContainText(`files: ${sourceKeys.length}`);
    await page.getByTestId(`restore-${backupId}`).click();
    const dialog = page.getByTestId('restore-dialog');
    await expect(dialog.getByTestId('restore-backup-files')).toContainText(`${sourceKeys.length} objects`);
    await dialog.getByRole('radio', { name: /Clone into a new schema/ }).check();
    await dialog.getByLabel('New schema name', { exact: true }).fill(CLONE_SCHEMA);
    await dialog.getByTestId('restore-files-toggle').check();
    await dialog.getByLabel('New files prefix', { exact: true }).fill(CLONE_PREFIX);
    await dialog.getByLabel(/to confirm/).fill(CLONE_SCHEMA);
    const submit = dialog.getByTestId('restore-submit');
    await expect(submit).toBeEnabled();

    // Deleting objects not in the backup: the submit waits for the prefix typed a second time.
    await dialog.getByTestId('restore-delete-extra').check();
    await expect(submit).toBeDisabled();
    const again = dialog.getByLabel(/to allow deleting objects not in the backup/);
    await again.fill('clones/');
    await expect(submit).toBeDisabled();
    await again.fill(CLONE_PREFIX);
    await expect(submit).toBeEnabled();
    await submit.click();

    await expect(dialog.getByTestId('restore-outcome')).toContainText('Restored into', { timeout: 120_000 });
    await expect(dialog.getByTestId('restore-files-status')).toContainText('completed');
    expect(await bucket.keys(CLONE_PREFIX)).toEqual(sourceKeys.map((k) => CLONE_PREFIX + k.slice(SOURCE.length)));
    expect(await bucket.text(`${CLONE_PREFIX}invoices/2026-001.txt`)).toBe('invoice one');
    expect(await bucket.text(`${SOURCE}invoices/2026-001.txt`)).toBe('changed later');
    const [restore] = await sql<{ files_status: string; delete_extra: boolean }>(
      `select files_status, delete_extra from restore_jobs where backup_id = $1 and files_prefix = $2`,
      [backupId, CLONE_PREFIX],
    );
    expect(restore).toEqual({ files_status: 'completed', delete_extra: true });
  } finally {
    for (const key of [...(await bucket.keys(SOURCE)), ...(await bucket.keys(CLONE_PREFIX))]) await bucket.remove(key);
    bucket.close();
    await sql(`drop schema if exists ${CLONE_SCHEMA} cascade`);
  }
});
