// The HTTP API's tenant-file fields (design.md "Tenant files") with the feature off (no
// STRATA_FILES_BUCKET): asking for files is a 400 that names the setting, and the restore options that
// only make sense with restoreFiles are refused naming their field. The route handlers run in process.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { backupJobs, restoreJobs } from '../db/schema.ts';
import { startTestStack } from '../testing/stack.ts';
import { call, completedBackupRow, prepareApiTest, type ApiTestStack } from './test-support.ts';

describe('HTTP API with tenant files off', () => {
  let t: ApiTestStack;
  let createBackup: typeof import('../../app/api/backups/create/route.ts').POST;
  let restore: typeof import('../../app/api/backups/restore/route.ts').POST;
  let openapi: typeof import('../../app/api/openapi.json/route.ts').GET;
  before(async () => {
    t = await prepareApiTest(await startTestStack(), { tenants: ['foff'], without: ['STRATA_FILES_BUCKET'] });
    createBackup = (await import('../../app/api/backups/create/route.ts')).POST;
    restore = (await import('../../app/api/backups/restore/route.ts')).POST;
    openapi = (await import('../../app/api/openapi.json/route.ts')).GET;
  });
  after(async () => {
    await t?.stop();
  });

  const backupRows = async () => t.stack.db.select({ id: backupJobs.id }).from(backupJobs).where(eq(backupJobs.tenantId, 'foff'));

  it('POST /api/backups/create with includeFiles: 400 naming STRATA_FILES_BUCKET, nothing queued', async () => {
    const before = (await backupRows()).length;
    for (const body of [{ tenant_id: 'foff', includeFiles: true }, { tenant_id: 'foff', include_files: true }]) {
      const res = await call(createBackup, { path: '/api/backups/create', auth: t.bearer.operator, body });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error?.code, 'bad_request');
      assert.equal(res.body.error?.field, 'include_files');
      assert.match(res.body.error!.message, /STRATA_FILES_BUCKET/);
    }
    assert.equal((await backupRows()).length, before, 'no backup row was created');
  });

  it('POST /api/backups/create: includeFiles defaults to false and must be a boolean', async () => {
    const plain = await call(createBackup, { path: '/api/backups/create', auth: t.bearer.operator, body: { tenant_id: 'foff' } });
    assert.equal(plain.status, 202, JSON.stringify(plain.body));
    assert.equal(plain.body.job?.include_files, undefined, 'a backup without files says nothing of files');
    const off = await call(createBackup, { path: '/api/backups/create', auth: t.bearer.operator, body: { tenant_id: 'foff', includeFiles: false } });
    assert.equal(off.status, 202, JSON.stringify(off.body));
    const [row] = await t.stack.db.select().from(backupJobs).where(eq(backupJobs.id, String(off.body.job?.id)));
    assert.equal(row!.includeFiles, false);
    const wrong = await call(createBackup, { path: '/api/backups/create', auth: t.bearer.operator, body: { tenant_id: 'foff', includeFiles: 'yes' } });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error?.field, 'includeFiles');
    const disagree = await call(createBackup, { path: '/api/backups/create', auth: t.bearer.operator, body: { tenant_id: 'foff', includeFiles: true, include_files: false } });
    assert.equal(disagree.status, 400);
    assert.equal(disagree.body.error?.field, 'include_files');
  });

  it('POST /api/backups/restore: the file options without restoreFiles are refused naming their field', async () => {
    const backup = await completedBackupRow(t, 'foff');
    const base = { tenant_id: 'foff', backup_job_id: backup.id, confirm: 'Tenant foff' };
    const cases: [Record<string, unknown>, string][] = [
      [{ deleteExtra: true }, 'delete_extra'],
      [{ delete_extra: true, restoreFiles: false }, 'delete_extra'],
      [{ filesOnly: true }, 'files_only'],
      [{ mode: 'clone', target_schema: 't_foff_copy', confirm: 't_foff_copy', filesPrefix: 'clones/foff/' }, 'files_prefix'],
    ];
    for (const [extra, field] of cases) {
      const res = await call(restore, { path: '/api/backups/restore', auth: t.bearer.admin, body: { ...base, ...extra } });
      assert.equal(res.status, 400, `${JSON.stringify(extra)}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error?.code, 'bad_request');
      assert.equal(res.body.error?.field, field, JSON.stringify(res.body));
    }
    assert.equal((await t.stack.db.select().from(restoreJobs)).length, 0, 'no restore was queued');
  });

  it('POST /api/backups/restore with restoreFiles: 400 for a backup without files; files off named for one with files', async () => {
    const plain = await completedBackupRow(t, 'foff');
    const res = await call(restore, { path: '/api/backups/restore', auth: t.bearer.admin, body: { tenant_id: 'foff', backup_job_id: plain.id, confirm: 'Tenant foff', restoreFiles: true } });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error?.field, 'restore_files');
    assert.match(res.body.error!.message, /holds no files/);

    const withFiles = await completedBackupRow(t, 'foff', { count: 3, bytes: 300, prefix: 'tenants/foff/' });
    const off = await call(restore, { path: '/api/backups/restore', auth: t.bearer.admin, body: { tenant_id: 'foff', backup_job_id: withFiles.id, confirm: 'Tenant foff', restoreFiles: true } });
    assert.equal(off.status, 400, JSON.stringify(off.body));
    assert.equal(off.body.error?.field, 'restore_files');
    assert.match(off.body.error!.message, /STRATA_FILES_BUCKET/);

    const disagree = await call(restore, {
      path: '/api/backups/restore',
      auth: t.bearer.admin,
      body: { tenant_id: 'foff', backup_job_id: withFiles.id, confirm: 'Tenant foff', restoreFiles: true, restore_files: false },
    });
    assert.equal(disagree.status, 400);
    assert.equal(disagree.body.error?.field, 'restore_files');
    assert.equal((await t.stack.db.select().from(restoreJobs)).length, 0, 'no restore was queued');
  });

  it('the OpenAPI document describes the file fields of requests and answers', async () => {
    // The document as a client reads it: nested objects, looked up by name.
    type Node = { [key: string]: Node } & { description: string };
    const doc = (await openapi().json()) as { paths: Node; components: { schemas: Node } };
    const createProps = doc.paths['/api/backups/create'].post.requestBody.content['application/json'].schema.properties;
    assert.ok(createProps.includeFiles && createProps.include_files);
    assert.match(createProps.includeFiles.description, /files prefix/);
    const restoreProps = doc.paths['/api/backups/restore'].post.requestBody.content['application/json'].schema.properties;
    for (const name of ['restoreFiles', 'restore_files', 'filesPrefix', 'files_prefix', 'deleteExtra', 'delete_extra', 'filesOnly', 'files_only']) {
      assert.equal(typeof restoreProps[name]?.description, 'string', name);
    }
    assert.match(restoreProps.restoreFiles.description, /SHA-256/);
    for (const name of ['include_files', 'files_count', 'files_bytes']) assert.ok(doc.components.schemas.Backup.properties[name], name);
    for (const name of ['restore_files', 'files_only', 'files_prefix', 'delete_extra', 'files_status', 'files_report', 'files_error']) {
      assert.ok(doc.components.schemas.Restore.properties[name], name);
    }
  });
});
