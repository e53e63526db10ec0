// The `strata` CLI's tenant-files flags and commands (design.md "Tenant files"): the package bin,
// real processes, --json, exit codes; and the pure text of the restore outcome.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import type { restoreJson } from '../lib/api/json.ts';
import { filesBucketFromConfig } from '../lib/storage/files-bucket.ts';
import { FILES_OFF_MESSAGE } from '../lib/files/source.ts';
import { createDemoTenant } from '../lib/testing/tenant-data.ts';
import { startTestStack, type TestStack } from '../lib/testing/stack.ts';
import { describeRestore, filesProgressText, filesResumeCommand } from './commands/jobs.ts';

interface Run {
  code: number;
  json: Record<string, unknown> & { error?: { code: string; message: string } };
  stdout: string;
  stderr: string;
}

const NO_STACK = /\n\s+at /;
const SOME_UUID = '00000000-0000-4000-8000-000000000000';

describe('strata CLI: tenant files', () => {
  let stack: TestStack;
  /** env: changes to the stack's environment; a value of null unsets the variable. */
  const strata = (args: string[], env: Record<string, string | null> = {}): Promise<Run> =>
    new Promise((resolve, reject) => {
      const merged: Record<string, string | undefined> = { ...process.env, ...stack.env };
      for (const [k, v] of Object.entries(env)) {
        if (v === null) delete merged[k];
        else merged[k] = v;
      }
      // The stack's servers live in this process: spawn asynchronously so they keep answering.
      const child = spawn(process.execPath, ['worker/bin/strata.mjs', ...args], { env: merged as NodeJS.ProcessEnv });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b) => (stdout += b));
      child.stderr.on('data', (b) => (stderr += b));
      child.on('error', reject);
      child.on('close', (code) => {
        let json = {};
        try {
          json = JSON.parse(stdout);
        } catch {
          /* human output */
        }
        resolve({ code: code ?? -1, json, stdout, stderr });
      });
      child.stdin.end('');
    });
  const ownPrefix = async (id: string) =>
    (await stack.db.execute<{ files_prefix: string | null }>(sql`select files_prefix from tenant_state where tenant_id = ${id}`)).rows[0]?.files_prefix ?? null;

  before(async () => {
    stack = await startTestStack();
    await createDemoTenant(stack.db, { id: 'files-clinic', name: 'Files Clinic', schemaName: 'files_clinic', plan: 'premium', patients: 50 });
    await stack.db.execute(sql`create schema files_walk_in`);
  });
  after(async () => stack?.stop());

  it('set-files-prefix refuses a bad prefix, stores a good one, shows and clears it (audited)', async () => {
    for (const bad of ['/tenants/files-clinic/', 'no-trailing-slash', 'a/../b/', '/']) {
      const r = await strata(['tenant', 'set-files-prefix', '--tenant', 'files-clinic', '--prefix', bad, '--json']);
      assert.equal(r.code, 2, `${bad} → ${r.code} ${r.stdout} ${r.stderr}`);
      assert.match(r.json.error!.message, bad === '/' ? /^--prefix: Too small/ : /^--prefix: must end with "\/", not start with one and have no "\.\." segment$/);
      assert.doesNotMatch(r.stdout + r.stderr, NO_STACK);
    }
    assert.equal(await ownPrefix('files-clinic'), null, 'a refused prefix stores nothing');
    for (const args of [[], ['--prefix', 'a/', '--clear']]) {
      const r = await strata(['tenant', 'set-files-prefix', '--tenant', 'files-clinic', ...args, '--json']);
      assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}`);
      assert.match(r.json.error!.message, /exactly one of --prefix P or --clear/);
    }
    const nobody = await strata(['tenant', 'set-files-prefix', '--tenant', 'nobody', '--prefix', 'x/', '--json']);
    assert.equal(nobody.code, 1);
    assert.equal(nobody.json.error?.code, 'not_found');
    assert.equal(await ownPrefix('nobody'), null);

    const set = await strata(['tenant', 'set-files-prefix', '--tenant', 'files-clinic', '--prefix', 'custom/clinic-7/', '--json']);
    assert.equal(set.code, 0, set.stderr + set.stdout);
    assert.deepEqual(set.json, { tenant_id: 'files-clinic', files_prefix: 'custom/clinic-7/', effective_prefix: 'custom/clinic-7/' });
    assert.equal(await ownPrefix('files-clinic'), 'custom/clinic-7/');
    const human = await strata(['tenant', 'set-files-prefix', '--tenant', 'files-clinic', '--prefix', 'custom/clinic-8/']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^Tenant files-clinic: files prefix custom\/clinic-8\/ \(was custom\/clinic-7\/\)/);

    const list = await strata(['tenant', 'list', '--json']);
    const row = (list.json.tenants as { id: string; files_prefix: string }[]).find((t) => t.id === 'files-clinic');
    assert.equal(row?.files_prefix, 'custom/clinic-8/');

    const cleared = await strata(['tenant', 'set-files-prefix', '--tenant', 'files-clinic', '--clear', '--json']);
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.deepEqual(cleared.json, { tenant_id: 'files-clinic', files_prefix: null, effective_prefix: 'tenants/files-clinic/' });
    assert.equal(await ownPrefix('files-clinic'), null);

    const audited = await stack.db.execute<{ actor: string; target: string; prefix: string | null; previous: string | null }>(sql`
      select actor, target, details->>'files_prefix' as prefix, details->>'previous' as previous
      from audit_log where action = 'tenant.set_files_prefix' order by id`);
    assert.deepEqual(
      audited.rows.map((a) => [a.target, a.prefix, a.previous]),
      [['files-clinic', 'custom/clinic-7/', null], ['files-clinic', 'custom/clinic-8/', 'custom/clinic-7/'], ['files-clinic', null, 'custom/clinic-8/']],
    );
    for (const a of audited.rows) assert.match(a.actor, /^cli:.+@.+/);
  });

  it('tenant add --files-prefix: a bad prefix adds nothing, a good one is stored with the tenant', async () => {
    const add = ['tenant', 'add', '--id', 'files-walk-in', '--name', 'Files Walk-in', '--schema', 'files_walk_in', '--tier', 'advanced'];
    const bad = await strata([...add, '--files-prefix', 'no-slash', '--json']);
    assert.equal(bad.code, 2, bad.stdout + bad.stderr);
    assert.match(bad.json.error!.message, /^--files-prefix:/);
    assert.equal((await stack.db.execute(sql`select 1 from tenants where id = 'files-walk-in'`)).rowCount, 0);
    const ok = await strata([...add, '--files-prefix', 'walk-in/docs/', '--json']);
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.equal((ok.json.tenant as { files_prefix?: string }).files_prefix, 'walk-in/docs/');
    assert.equal(await ownPrefix('files-walk-in'), 'walk-in/docs/');
    const list = await strata(['tenant', 'list', '--json']);
    const prefixes = Object.fromEntries((list.json.tenants as { id: string; files_prefix: string }[]).map((t) => [t.id, t.files_prefix]));
    assert.deepEqual(prefixes, { 'files-clinic': 'tenants/files-clinic/', 'files-walk-in': 'walk-in/docs/' });
  });

  it('refuses files when STRATA_FILES_BUCKET is unset, naming it, before anything is queued', async () => {
    const off = { STRATA_FILES_BUCKET: null };
    for (const args of [
      ['backup', '--tenant', 'files-clinic', '--include-files'],
      ['backup', '--tenant', 'files-clinic', '--include-files', '--wait'],
      ['restore', '--backup', SOME_UUID, '--restore-files', '--yes'],
    ]) {
      const r = await strata([...args, '--json'], off);
      assert.equal(r.code, 2, `${args.join(' ')} → ${r.code} ${r.stdout} ${r.stderr}`);
      assert.equal(r.json.error?.code, 'bad_configuration');
      assert.ok(r.json.error!.message.includes(FILES_OFF_MESSAGE), r.json.error!.message);
      assert.match(r.json.error!.message, /STRATA_FILES_BUCKET is not set/);
    }
    const human = await strata(['backup', '--tenant', 'files-clinic', '--include-files'], off);
    assert.equal(human.code, 2);
    assert.match(human.stderr, /^strata: --include-files: tenant files are off: STRATA_FILES_BUCKET is not set/);
    assert.doesNotMatch(human.stdout + human.stderr, NO_STACK);
    const queued = await stack.db.execute(sql`select 1 from backup_jobs`);
    assert.equal(queued.rowCount, 0, 'nothing queued');
    const audited = await stack.db.execute(sql`select 1 from audit_log where action = 'backup.create'`);
    assert.equal(audited.rowCount, 0);
  });

  it('refuses the file options of a restore without --restore-files, as a usage error', async () => {
    for (const [flags, named] of [
      [['--delete-extra'], '--delete-extra'],
      [['--files-only'], '--files-only'],
      [['--files-prefix', 'x/'], '--files-prefix'],
    ] as const) {
      const r = await strata(['restore', '--backup', SOME_UUID, ...flags, '--yes', '--json']);
      assert.equal(r.code, 2, `${flags.join(' ')} → ${r.code} ${r.stdout} ${r.stderr}`);
      assert.equal(r.json.error?.message, `${named} needs --restore-files`);
      const human = await strata(['restore', '--backup', SOME_UUID, ...flags, '--yes']);
      assert.equal(human.code, 2);
      assert.equal(human.stderr, `strata: ${named} needs --restore-files\n`);
    }
    const inPlacePrefix = await strata(['restore', '--backup', SOME_UUID, '--restore-files', '--files-prefix', 'x/', '--yes', '--json']);
    assert.equal(inPlacePrefix.code, 2);
    assert.match(inPlacePrefix.json.error!.message, /--files-prefix goes with --into-schema/);
    const badPrefix = await strata(['restore', '--backup', SOME_UUID, '--into-schema', 'c1', '--restore-files', '--files-prefix', '/abs/', '--yes', '--json']);
    assert.equal(badPrefix.code, 2);
    assert.match(badPrefix.json.error!.message, /^--files-prefix: must end with/);
    assert.equal((await stack.db.execute(sql`select 1 from restore_jobs`)).rowCount, 0, 'nothing queued');
  });

  it('backs up and restores files end to end; a failed file part exits 3 with the resume command', async () => {
    // A backup without files: asking it for files is refused by the request's validation, cleanly.
    const plain = await strata(['backup', '--tenant', 'files-clinic', '--wait', '--json']);
    assert.equal(plain.code, 0, plain.stderr + plain.stdout);
    const plainId = String((plain.json.job as { id: string }).id);
    assert.equal((plain.json.job as { include_files?: boolean }).include_files, undefined);
    const noFiles = await strata(['restore', '--backup', plainId, '--restore-files', '--yes', '--json']);
    assert.equal(noFiles.code, 2, noFiles.stdout + noFiles.stderr);
    assert.match(noFiles.json.error!.message, /holds no files/);

    const bucket = filesBucketFromConfig(stack.config)!;
    const put = (key: string, text: string) =>
      bucket.put(`tenants/files-clinic/${key}`, (async function* () { yield Buffer.from(text); })(), { contentType: 'text/plain', metadata: {}, size: Buffer.byteLength(text) });
    const read = async (key: string) => {
      const { body } = await bucket.get(`tenants/files-clinic/${key}`);
      const parts: Buffer[] = [];
      for await (const p of body) parts.push(p as Buffer);
      return Buffer.concat(parts).toString();
    };
    try {
      await put('a.txt', 'alpha');
      await put('docs/b.txt', 'bravo');
      await put('docs/c.txt', 'charlie');

      const backup = await strata(['backup', '--tenant', 'files-clinic', '--include-files', '--wait', '--json']);
      assert.equal(backup.code, 0, backup.stderr + backup.stdout);
      const job = backup.json.job as { id: string; status: string; include_files?: boolean; files_count?: number };
      assert.equal(job.status, 'completed');
      assert.equal(job.include_files, true);
      assert.equal(job.files_count, 3);
      const audit = await stack.db.execute<{ include: string | null }>(sql`select details->>'include_files' as include from audit_log where action = 'backup.create' and details->>'backup_id' = ${job.id}`);
      assert.deepEqual(audit.rows.map((a) => a.include), ['true']);

      await put('a.txt', 'changed');
      await bucket.delete('tenants/files-clinic/docs/b.txt');
      const restored = await strata(['restore', '--backup', job.id, '--restore-files', '--files-only', '--yes', '--wait', '--json']);
      assert.equal(restored.code, 0, restored.stderr + restored.stdout);
      const r = restored.json.restore as ReturnType<typeof restoreJson>;
      assert.equal(r.status, 'completed');
      assert.equal(r.files_only, true);
      assert.equal(r.files_status, 'completed');
      assert.equal((r.files_report as { written: number }).written, 2);
      assert.equal(await read('a.txt'), 'alpha');
      assert.equal(await read('docs/b.txt'), 'bravo');

      // The database and the files, in place; then a clone with its files under a new prefix.
      await bucket.delete('tenants/files-clinic/docs/c.txt');
      const inPlace = await strata(['restore', '--backup', job.id, '--restore-files', '--yes', '--wait', '--json']);
      assert.equal(inPlace.code, 0, inPlace.stderr + inPlace.stdout);
      const ip = inPlace.json.restore as ReturnType<typeof restoreJson>;
      assert.deepEqual([ip.status, ip.mode, ip.files_status, ip.files_only], ['completed', 'in_place', 'completed', false]);
      assert.match(String(ip.moved_aside_schema), /^strata_undo_/);
      assert.equal(await read('docs/c.txt'), 'charlie');
      const clone = await strata(['restore', '--backup', job.id, '--into-schema', 'files_clone', '--restore-files', '--files-prefix', 'clones/files-clinic/', '--yes', '--wait']);
      assert.equal(clone.code, 0, clone.stderr + clone.stdout);
      assert.match(clone.stdout, /cloned into schema "files_clone"\.\nFiles restored under clones\/files-clinic\/: 3 written, 0 unchanged \(of 3\)\./);
      const { body } = await bucket.get('clones/files-clinic/docs/b.txt');
      const parts: Buffer[] = [];
      for await (const p of body) parts.push(p as Buffer);
      assert.equal(Buffer.concat(parts).toString(), 'bravo');
      const audited = await stack.db.execute<{ prefix: string | null; files: string }>(sql`
        select details->>'files_prefix' as prefix, details->>'restore_files' as files from audit_log where action = 'restore.create' order by id`);
      assert.deepEqual(audited.rows.map((a) => [a.files, a.prefix]), [['true', null], ['true', null], ['true', 'clones/files-clinic/']]);

      // No key to read the file index with: the file part fails for good (a missing bucket would be
      // retried with backoff); the outcome says why and how to run the file part again.
      const failed = await strata(['restore', '--backup', job.id, '--restore-files', '--files-only', '--delete-extra', '--yes', '--wait'], { BACKUP_DECRYPTION_IDENTITY_FILE: null });
      assert.equal(failed.code, 3, failed.stdout + failed.stderr);
      assert.match(failed.stdout, /\(files only; the database was not touched\) FAILED\.\nFiles FAILED: .*BACKUP_DECRYPTION_IDENTITY_FILE is required to restore files/);
      assert.ok(
        failed.stdout.includes(`strata restore --backup ${job.id} --restore-files --files-only --delete-extra --yes --wait`),
        failed.stdout,
      );
      assert.doesNotMatch(failed.stdout + failed.stderr, NO_STACK);
    } finally {
      bucket.destroy();
    }
  });
});

describe('strata restore: the outcome of the file part, in words', () => {
  const base = {
    id: 'r1',
    tenant_id: 't1',
    backup_id: 'b1',
    mode: 'in_place',
    target_schema: 's1',
    moved_aside_schema: 'strata_undo_0000abcd',
    status: 'completed',
    error_message: null,
    copy_backup_id: 'b1',
    exact_copy: false,
    restore_files: true,
    files_only: false,
    files_prefix: null,
    delete_extra: false,
    files_status: 'completed',
    files_report: { objects_total: 3, objects_done: 3, bytes_total: 10, bytes_done: 10, written: 2, unchanged: 1, deleted: 0, failed: [] },
    files_error: null,
  } as unknown as ReturnType<typeof restoreJson>;

  it('prints files objects and bytes done of total from files_progress / files_report', () => {
    assert.equal(filesProgressText({ objects_done: 3, objects_total: 10, bytes_done: 1048576, bytes_total: 5 * 1048576 }), 'files 3/10 objects, 1.0/5.0 MiB');
    assert.equal(filesProgressText({ objects_done: 1, objects_total: 2, bytes_done: 512, bytes_total: 3072 }), 'files 1/2 objects, 0.5/3.0 KiB');
    assert.equal(filesProgressText({ objects_done: 0, objects_total: 2, bytes_done: 0, bytes_total: 19 }), 'files 0/2 objects, 0/19 B');
    assert.equal(filesProgressText(null), undefined);
    assert.equal(filesProgressText({ written: 1 }), undefined);
  });

  it('says the files were restored, or that they failed with files_error and the command to resume', () => {
    assert.match(describeRestore(base, 't1'), /undo with: strata restore undo --restore r1 --yes\nFiles restored: 2 written, 1 unchanged \(of 3\)\./);
    const failed = { ...base, files_status: 'failed', files_error: 'files: 1 not written of 3: docs/b.txt (boom)' } as typeof base;
    const text = describeRestore(failed, 't1');
    assert.match(text, /The database part is restored, but not every file\.\nFiles FAILED: files: 1 not written of 3: docs\/b\.txt \(boom\)/);
    assert.ok(text.endsWith('\n  strata restore --backup b1 --restore-files --files-only --yes --wait'), text);
    // A clone's files under their new prefix, onto another tenant, exactly the copy named, extras deleted.
    const clone = { ...failed, mode: 'clone', files_prefix: "clones/o'hara/", delete_extra: true, exact_copy: true, tenant_id: 't2' } as typeof base;
    assert.equal(
      filesResumeCommand(clone, 't1'),
      "strata restore --backup b1 --target-tenant t2 --cross-tenant --exact-copy --restore-files --files-only --files-prefix 'clones/o'\\''hara/' --delete-extra --yes --wait",
    );
    // The database part failed: nothing of the files ran, so no files-only hint.
    const dbFailed = { ...base, status: 'failed', error_message: 'replay failed', files_status: 'failed' } as typeof base;
    assert.equal(describeRestore(dbFailed, 't1'), 'Restore r1 FAILED (the live tenant is unchanged, its files too): replay failed');
  });
});
