// The HTTP API's tenant-file fields (design.md "Tenant files") with the feature on: backups queued
// with their files, restores queued with the file options (both spellings), the clone's prefix and
// files-only confirmation, and what the live view and the restore's answer show. Nothing runs the
// jobs: the worker's side is lib/files and lib/restore's tests.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { and, eq, sql } from 'drizzle-orm';
import { auditLog, backupJobs, restoreJobs } from '../db/schema.ts';
import { startTestStack } from '../testing/stack.ts';
import { call, completedBackupRow, prepareApiTest, type ApiTestStack } from './test-support.ts';

describe('HTTP API with tenant files on', () => {
  let t: ApiTestStack;
  let routes: {
    create: typeof import('../../app/api/backups/create/route.ts').POST;
    job: typeof import('../../app/api/backups/jobs/[id]/route.ts').GET;
    restore: typeof import('../../app/api/backups/restore/route.ts').POST;
    restoreById: typeof import('../../app/api/restores/[id]/route.ts').GET;
    active: typeof import('../../app/api/dashboard/active/route.ts').GET;
  };
  before(async () => {
    t = await prepareApiTest(await startTestStack(), { tenants: ['fon1', 'fon2', 'fon3'] });
    assert.ok(process.env.STRATA_FILES_BUCKET, 'the test stack has a files bucket');
    routes = {
      create: (await import('../../app/api/backups/create/route.ts')).POST,
      job: (await import('../../app/api/backups/jobs/[id]/route.ts')).GET,
      restore: (await import('../../app/api/backups/restore/route.ts')).POST,
      restoreById: (await import('../../app/api/restores/[id]/route.ts')).GET,
      active: (await import('../../app/api/dashboard/active/route.ts')).GET,
    };
  });
  after(async () => {
    await t?.stop();
  });

  /** Ends the tenant's queued restore (one restore per tenant at a time), as if it had failed. */
  const settle = (id: string) => t.stack.db.update(restoreJobs).set({ status: 'failed', completedAt: new Date() }).where(eq(restoreJobs.id, id));

  it('POST /api/backups/create with includeFiles: queued with its files, audited, shown by GET /api/backups/jobs/:id', async () => {
    const res = await call(routes.create, { path: '/api/backups/create', auth: t.bearer.operator, body: { tenant_id: 'fon1', includeFiles: true } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.body.job?.include_files, true);
    const id = String(res.body.job?.id);
    const [row] = await t.stack.db.select().from(backupJobs).where(eq(backupJobs.id, id));
    assert.equal(row!.includeFiles, true);
    const [entry] = await t.stack.db.select().from(auditLog).where(and(eq(auditLog.action, 'backup.create'), sql`${auditLog.details}->>'backup_id' = ${id}`));
    assert.equal((entry!.details as Record<string, unknown>).include_files, true);

    await t.stack.db.update(backupJobs).set({ filesProgress: { objects_done: 2, objects_total: 5, bytes_done: 20, bytes_total: 50 } }).where(eq(backupJobs.id, id));
    const job = await call(routes.job, { path: `/api/backups/jobs/${id}`, auth: t.bearer.viewer, params: { id } });
    assert.equal(job.status, 200);
    assert.deepEqual(job.body.job?.files_progress, { objects_done: 2, objects_total: 5, bytes_done: 20, bytes_total: 50 });
    const active = await call(routes.active, { path: '/api/dashboard/active?tenant=fon1', auth: t.bearer.viewer });
    const live = (active.body.jobs as { id: string; files?: Record<string, unknown> }[]).find((j) => j.id === id);
    assert.deepEqual(live?.files, { objects_done: 2, objects_total: 5, bytes_done: 20, bytes_total: 50, status: 'running' });
  });

  it('POST /api/backups/restore in place with restoreFiles and deleteExtra (camelCase and snake_case)', async () => {
    const backup = await completedBackupRow(t, 'fon1', { count: 4, bytes: 400, prefix: 'tenants/fon1/' });
    for (const body of [
      { restoreFiles: true, deleteExtra: true },
      { restore_files: true, delete_extra: true },
    ]) {
      const res = await call(routes.restore, { path: '/api/backups/restore', auth: t.bearer.admin, body: { tenant_id: 'fon1', backup_job_id: backup.id, confirm: 'Tenant fon1', ...body } });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      const r = res.body.restore!;
      assert.equal(r.restore_files, true);
      assert.equal(r.delete_extra, true);
      assert.equal(r.files_only, false);
      assert.equal(r.files_prefix, null, 'in place: the tenant’s own prefix');
      assert.equal(r.files_status, 'pending');
      const id = String(r.id);
      const shown = await call(routes.restoreById, { path: `/api/restores/${id}`, auth: t.bearer.viewer, params: { id } });
      assert.equal(shown.body.restore?.files_status, 'pending');
      const active = await call(routes.active, { path: '/api/dashboard/active?tenant=fon1', auth: t.bearer.viewer });
      const live = (active.body.jobs as { id: string; files?: Record<string, unknown> }[]).find((j) => j.id === id);
      assert.equal(live?.files?.status, 'pending');
      await settle(id);
    }
    // An in-place restore writes the files back under the tenant's own prefix: no other prefix.
    const elsewhere = await call(routes.restore, {
      path: '/api/backups/restore',
      auth: t.bearer.admin,
      body: { tenant_id: 'fon1', backup_job_id: backup.id, confirm: 'Tenant fon1', restoreFiles: true, filesPrefix: 'other/' },
    });
    assert.equal(elsewhere.status, 400);
    assert.equal(elsewhere.body.error?.field, 'files_prefix');
  });

  it('a clone with files needs a new files prefix', async () => {
    const backup = await completedBackupRow(t, 'fon2', { count: 1, bytes: 10, prefix: 'tenants/fon2/' });
    const clone = { tenant_id: 'fon2', backup_job_id: backup.id, mode: 'clone', target_schema: 't_fon2_copy', confirm: 't_fon2_copy', restoreFiles: true };
    const missing = await call(routes.restore, { path: '/api/backups/restore', auth: t.bearer.admin, body: clone });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error?.field, 'files_prefix');
    const own = await call(routes.restore, { path: '/api/backups/restore', auth: t.bearer.admin, body: { ...clone, filesPrefix: 'tenants/fon2/' } });
    assert.equal(own.status, 400);
    assert.equal(own.body.error?.field, 'files_prefix');
    const ok = await call(routes.restore, { path: '/api/backups/restore', auth: t.bearer.admin, body: { ...clone, filesPrefix: 'clones/fon2/' } });
    assert.equal(ok.status, 202, JSON.stringify(ok.body));
    assert.equal(ok.body.restore?.files_prefix, 'clones/fon2/');
    assert.equal(ok.body.restore?.target_schema, 't_fon2_copy');
    await settle(String(ok.body.restore?.id));
  });

  it('only a clone’s files: no schema, confirmed by typing the files prefix', async () => {
    const backup = await completedBackupRow(t, 'fon3', { count: 1, bytes: 10, prefix: 'tenants/fon3/' });
    const body = { tenant_id: 'fon3', backup_job_id: backup.id, mode: 'clone', restoreFiles: true, filesOnly: true, filesPrefix: 'clones/fon3/' };
    const wrong = await call(routes.restore, { path: '/api/backups/restore', auth: t.bearer.admin, body: { ...body, confirm: 'Tenant fon3' } });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error?.field, 'confirm');
    const ok = await call(routes.restore, { path: '/api/backups/restore', auth: t.bearer.admin, body: { ...body, confirm: 'clones/fon3/' } });
    assert.equal(ok.status, 202, JSON.stringify(ok.body));
    assert.equal(ok.body.restore?.files_only, true);
    assert.equal(ok.body.restore?.files_prefix, 'clones/fon3/');
    await settle(String(ok.body.restore?.id));
  });
});
