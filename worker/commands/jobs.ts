// `strata backup`, `hold`, `verify`, `restore`, `restore undo`: the same audited operations the
// dashboard and API use, acting as an operator with shell access (no role check).
import { eq } from 'drizzle-orm';
import { getDb } from '../../lib/db/client.ts';
import { backupVerifications } from '../../lib/db/schema.ts';
import { backupById } from '../../lib/db/queries/backups.ts';
import { restoreById } from '../../lib/db/queries/restores.ts';
import { platformTenant } from '../../lib/views/tenants.ts';
import { schemaNameSchema, storageTierSchema, tenantIdSchema, uuidSchema } from '../../lib/domain.ts';
import { ApiError } from '../../lib/api/errors.ts';
import { restoreJson, verificationJson } from '../../lib/api/json.ts';
import { requestBackup } from '../../lib/api/operations/backup.ts';
import { setBackupHold } from '../../lib/api/operations/hold.ts';
import { expectedConfirmation, requestRestore, requestUndo } from '../../lib/api/operations/restore.ts';
import { requestVerification } from '../../lib/api/operations/verify.ts';
import type { Actor } from '../../lib/auth/session.ts';
import { backupJson } from '../../lib/backup/serialize.ts';
import type { RestoreMode } from '../../lib/domain.ts';
import { filesPrefixSchema } from '../../lib/files/index-format.ts';
import { FILES_OFF_MESSAGE, filesEnabled } from '../../lib/files/source.ts';
import { createStores } from '../../lib/storage/registry.ts';
import { CliError, cliActor, config, EXIT, flags, output, required, usage, valid, waitConfig } from '../cli-kit.ts';
import { awaitJob } from './await-job.ts';

const actor = (): Actor => ({ name: cliActor(), role: 'admin', via: 'cli', email: null });

/** API errors → CLI exit codes: bad input 2, missing 1, conflict 4. */
async function operation<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err instanceof ApiError ? err : (err as { code?: string; message?: string; status?: number });
    const code = typeof e.code === 'string' ? e.code : '';
    if (code === 'bad_request' || code === 'unsupported') throw new CliError(String(e.message), EXIT.usage, code);
    if (code === 'conflict') throw new CliError(String(e.message), EXIT.conflict, code);
    if (code === 'not_found') throw new CliError(String(e.message), EXIT.error, code);
    throw err;
  }
}

const mib = (n: number | null | undefined) => (n == null ? '' : `${(n / 1048576).toFixed(1)} MiB`);

/** The part of a progress line about files: backup_jobs.files_progress or restore_jobs.files_report (same four counters). */
export function filesProgressText(progress: unknown): string | undefined {
  if (!progress || typeof progress !== 'object') return undefined;
  const p = progress as { objects_done?: unknown; objects_total?: unknown; bytes_done?: unknown; bytes_total?: unknown };
  if (typeof p.objects_done !== 'number' || typeof p.objects_total !== 'number') return undefined;
  const bytes = typeof p.bytes_done === 'number' && typeof p.bytes_total === 'number' ? `, ${doneOfTotal(p.bytes_done, p.bytes_total)}` : '';
  return `files ${p.objects_done}/${p.objects_total} objects${bytes}`;
}

/** `1.0/5.0 MiB`, in the unit the total reads best in (B, KiB or MiB). */
function doneOfTotal(done: number, total: number): string {
  const [div, unit] = total >= 1048576 ? [1048576, 'MiB'] : total >= 1024 ? [1024, 'KiB'] : [1, 'B'];
  const f = (n: number) => (div === 1 ? String(n) : (n / div).toFixed(1));
  return `${f(done)}/${f(total)} ${unit}`;
}

const progressLine = (...parts: (string | null | undefined)[]) => parts.filter(Boolean).join(' · ') || undefined;

/** Asking for files when STRATA_FILES_BUCKET is unset: refused before anything is queued. */
function requireFiles(cfg: Parameters<typeof filesEnabled>[0], flag: string): void {
  if (!filesEnabled(cfg)) throw new CliError(`${flag}: ${FILES_OFF_MESSAGE}`, EXIT.usage, 'bad_configuration');
}

export async function backupCommand(argv: string[]): Promise<number> {
  const f = flags(argv, {
    tenant: { type: 'string' },
    storage: { type: 'string' },
    wait: { type: 'boolean' },
    incremental: { type: 'boolean' },
    'include-files': { type: 'boolean' },
  });
  const tenantId = valid(tenantIdSchema, required(f.tenant, 'tenant'), 'tenant');
  const storageTier = valid(storageTierSchema, f.storage ?? 's3_standard', 'storage');
  const includeFiles = !!f['include-files'];
  const cfg = waitConfig(!!f.wait);
  if (includeFiles) requireFiles(cfg.worker ?? config(['database']), '--include-files');
  const db = getDb(cfg.DATABASE_URL);
  const out = output(!!f.json);
  const backupType = f.incremental ? 'incremental' : 'full';
  const row = await operation(() => requestBackup(db, actor(), { tenantId, storageTier, backupType, includeFiles }, cfg.worker ?? config(['database'])));
  let job = row;
  if (f.wait) {
    out.info(`${backupType === 'incremental' ? 'Incremental backup' : 'Backup'} ${job.id} of ${tenantId}${includeFiles ? ' and its files' : ''} to ${storageTier} queued.`);
    await awaitJob(db, cfg.worker!, { kind: 'backup', key: row.dumpGroup }, async () => {
      job = (await backupById(db, row.id))!;
      return { status: job.status, progress: job.status === 'running' ? progressLine(mib(job.progressBytes), filesProgressText(job.filesProgress)) : undefined };
    }, out.info);
  }
  const json = backupJson(job);
  const files = json.include_files ? ` + ${json.files_count ?? 0} file(s), ${mib(json.files_bytes ?? 0)}` : '';
  out.result({ job: json }, () =>
    job.status === 'completed'
      ? `Backup ${json.id} completed: ${mib(json.backup_size_bytes)}${json.backup_type === 'incremental' ? ` (${mib(json.added_bytes)} new)` : ''}${files} at ${json.backup_location} (expires ${json.expires_at ?? 'never'})`
      : job.status === 'failed'
        ? `Backup ${json.id} failed: ${json.error_message}`
        : `Backup ${json.id} queued (${json.status}); follow it with: strata show --backup ${json.id}`,
  );
  return job.status === 'failed' ? EXIT.jobFailed : EXIT.ok;
}

export async function holdCommand(argv: string[]): Promise<void> {
  const f = flags(argv, { backup: { type: 'string' }, on: { type: 'boolean' }, off: { type: 'boolean' } });
  const id = valid(uuidSchema, required(f.backup, 'backup'), 'backup');
  if (!!f.on === !!f.off) throw usage('give exactly one of --on or --off');
  const cfg = config(['database', 'stores']);
  const db = getDb(cfg.DATABASE_URL);
  await operation(() => setBackupHold({ db, stores: createStores(cfg) }, actor(), id, !!f.on));
  const job = backupJson((await backupById(db, id))!);
  output(!!f.json).result({ job }, `Legal hold ${job.legal_hold ? 'on' : 'off'} for backup ${id}.`);
}

export async function verifyCommand(argv: string[]): Promise<number> {
  // --allow-unsigned (issue 13): the admin's explicit confirmation for a backup taken before signing existed.
  // --exact-copy: read this copy itself, not the cheapest copy of its backup point to read.
  const f = flags(argv, { backup: { type: 'string' }, wait: { type: 'boolean' }, 'allow-unsigned': { type: 'boolean' }, 'exact-copy': { type: 'boolean' } });
  const id = valid(uuidSchema, required(f.backup, 'backup'), 'backup');
  const cfg = waitConfig(!!f.wait);
  const db = getDb(cfg.DATABASE_URL);
  const out = output(!!f.json);
  let row = await operation(() => requestVerification(db, actor(), id, { allowUnsigned: !!f['allow-unsigned'], exactCopy: !!f['exact-copy'] }));
  if (f.wait) {
    await awaitJob(db, cfg.worker!, { kind: 'verify', key: row.id }, async () => {
      [row] = await db.select().from(backupVerifications).where(eq(backupVerifications.id, row.id));
      return { status: row!.status };
    }, out.info);
  }
  const verification = verificationJson(row);
  out.result({ verification }, () =>
    row.status === 'passed'
      ? `Verified backup ${id}: ${row.tables} tables, ${row.rows} rows restored into a scratch database.`
      : row.status === 'failed'
        ? `Verification of backup ${id} FAILED: ${row.errorMessage}`
        : `Verification ${row.id} queued.`,
  );
  return row.status === 'failed' ? EXIT.jobFailed : EXIT.ok;
}

export async function restoreCommand(argv: string[]): Promise<number> {
  if (argv[0] === 'undo') return undoCommand(argv.slice(1));
  const f = flags(argv, {
    backup: { type: 'string' },
    'into-schema': { type: 'string' },
    'target-tenant': { type: 'string' },
    'cross-tenant': { type: 'boolean' },
    'exact-copy': { type: 'boolean' },
    yes: { type: 'boolean' },
    wait: { type: 'boolean' },
    'allow-unsigned': { type: 'boolean' },
    // Tenant files (design.md "Tenant files").
    'restore-files': { type: 'boolean' },
    'files-only': { type: 'boolean' },
    'files-prefix': { type: 'string' },
    'delete-extra': { type: 'boolean' },
  });
  const backupId = valid(uuidSchema, required(f.backup, 'backup'), 'backup');
  const intoSchema = f['into-schema'] === undefined ? undefined : valid(schemaNameSchema, f['into-schema'], 'into-schema');
  const targetTenant = f['target-tenant'] === undefined ? undefined : valid(tenantIdSchema, f['target-tenant'], 'target-tenant');
  if (intoSchema && targetTenant) throw usage('--into-schema and --target-tenant exclude each other');
  if (targetTenant && !f['cross-tenant']) throw usage('restoring onto another tenant needs --cross-tenant as well as --target-tenant');
  const restoreFiles = !!f['restore-files'];
  const filesOnly = !!f['files-only'];
  const deleteExtra = !!f['delete-extra'];
  for (const flag of ['delete-extra', 'files-only', 'files-prefix'] as const) {
    if (f[flag] !== undefined && f[flag] !== false && !restoreFiles) throw usage(`--${flag} needs --restore-files`);
  }
  const filesPrefix = f['files-prefix'] === undefined ? undefined : valid(filesPrefixSchema, f['files-prefix'], 'files-prefix');
  if (filesPrefix !== undefined && !intoSchema && !filesOnly) {
    throw usage("--files-prefix goes with --into-schema (a clone's files under a new prefix) or --files-only; an in-place restore writes the files back under the tenant's own prefix");
  }
  if (!f.yes) throw usage(`a restore replaces data${restoreFiles ? ' and files' : ''}: add --yes to confirm`);
  const cfg = waitConfig(!!f.wait);
  if (restoreFiles) requireFiles(cfg.worker ?? config(['database']), '--restore-files');
  const db = getDb(cfg.DATABASE_URL);
  const out = output(!!f.json);
  const backup = await backupById(db, backupId);
  if (!backup) throw new CliError(`no backup with id ${backupId}`, EXIT.error, 'not_found');
  // Files only to a new prefix is a clone's file part: the database is not touched either way.
  const mode: RestoreMode = intoSchema || (filesOnly && filesPrefix !== undefined) ? 'clone' : 'in_place';
  const overwritten = await platformTenant(db, targetTenant ?? backup.tenantId);
  if (!overwritten) throw new CliError(`tenant ${targetTenant ?? backup.tenantId} does not exist`, EXIT.error, 'not_found');
  // --yes is the shell's confirmation; the operation still checks it names what is overwritten
  // (only a clone's files: the files prefix they go under).
  const confirm = expectedConfirmation(mode, overwritten.name, intoSchema, mode === 'clone' && filesOnly ? filesPrefix : undefined);
  let restore = await operation(() =>
    requestRestore(
      db,
      actor(),
      {
        tenantId: backup.tenantId,
        backupId,
        mode,
        targetSchema: intoSchema,
        targetTenantId: targetTenant,
        confirm,
        allowUnsigned: !!f['allow-unsigned'],
        exactCopy: !!f['exact-copy'],
        ...(restoreFiles ? { restoreFiles, filesOnly, filesPrefix, deleteExtra } : {}),
      },
      cfg.worker ?? config(['database']),
    ),
  );
  return finishRestore(restore, !!f.wait, f.json);

  async function finishRestore(r: typeof restore, wait: boolean, json?: boolean): Promise<number> {
    if (wait) {
      await awaitJob(db, cfg.worker!, { kind: 'restore', key: r.id }, async () => {
        r = (await restoreById(db, r.id))!;
        return { status: r.status, progress: progressLine(r.phase, r.restoreFiles ? filesProgressText(r.filesReport) : undefined) };
      }, out.info);
      restore = r;
    }
    const body = restoreJson(r);
    output(!!json).result({ restore: body }, () => describeRestore(body, backup!.tenantId));
    return r.status === 'failed' || r.filesStatus === 'failed' ? EXIT.jobFailed : EXIT.ok;
  }
}

/** A word for the shell: as is when safe, else single-quoted. */
const shellWord = (w: string) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

/** The command that runs a restore's file part again (only what still differs is written). */
export function filesResumeCommand(r: ReturnType<typeof restoreJson>, backupTenantId: string): string {
  return [
    'strata restore --backup',
    shellWord(r.backup_id ?? ''),
    ...(r.tenant_id !== backupTenantId ? ['--target-tenant', shellWord(r.tenant_id), '--cross-tenant'] : []),
    ...(r.exact_copy ? ['--exact-copy'] : []),
    '--restore-files --files-only',
    ...(r.files_prefix ? ['--files-prefix', shellWord(r.files_prefix)] : []),
    ...(r.delete_extra ? ['--delete-extra'] : []),
    '--yes --wait',
  ].join(' ');
}

function filesSummary(r: ReturnType<typeof restoreJson>): string {
  const report = r.files_report as { objects_total?: number; written?: number; unchanged?: number; deleted?: number } | null;
  const where = r.files_prefix ? ` under ${r.files_prefix}` : '';
  if (!report) return `Files restored${where}.`;
  return `Files restored${where}: ${report.written ?? 0} written, ${report.unchanged ?? 0} unchanged${r.delete_extra ? `, ${report.deleted ?? 0} extra deleted` : ''} (of ${report.objects_total ?? 0}).`;
}

export function describeRestore(r: ReturnType<typeof restoreJson>, backupTenantId: string): string {
  const filesFailed = r.restore_files && r.files_status === 'failed';
  const resume = () => `Files FAILED: ${r.files_error ?? r.error_message ?? 'unknown error'}\nResume the files only (writes only what still differs) with:\n  ${filesResumeCommand(r, backupTenantId)}`;
  if (r.files_only) {
    if (r.status === 'completed' && !filesFailed) return `Restore ${r.id} completed (files only; the database was not touched). ${filesSummary(r)}`;
    if (r.status === 'failed' || filesFailed) return `Restore ${r.id} (files only; the database was not touched) FAILED.\n${resume()}`;
    return `Restore ${r.id} (files only) queued (${r.status}); follow it with --wait or in the dashboard.`;
  }
  if (r.status === 'completed') {
    const copy = r.copy_backup_id && r.copy_backup_id !== r.backup_id ? ` (read copy ${r.copy_backup_id} of backup ${r.backup_id}'s backup point)` : '';
    const db = (r.mode === 'clone'
      ? `Restore ${r.id} completed: cloned into schema ${JSON.stringify(r.target_schema)}.`
      : `Restore ${r.id} completed. The previous data is kept as schema ${JSON.stringify(r.moved_aside_schema)}; undo with: strata restore undo --restore ${r.id} --yes`) + copy;
    if (!r.restore_files) return db;
    return filesFailed ? `${db}\nThe database part is restored, but not every file.\n${resume()}` : `${db}\n${filesSummary(r)}`;
  }
  if (r.status === 'failed') return `Restore ${r.id} FAILED (the live tenant is unchanged${r.restore_files ? ', its files too' : ''}): ${r.error_message}`;
  return `Restore ${r.id} queued (${r.status}); follow it with --wait or in the dashboard.`;
}

async function undoCommand(argv: string[]): Promise<number> {
  const f = flags(argv, { restore: { type: 'string' }, yes: { type: 'boolean' }, wait: { type: 'boolean' } });
  const restoreId = valid(uuidSchema, required(f.restore, 'restore'), 'restore');
  if (!f.yes) throw usage('an undo swaps the tenant back: add --yes to confirm');
  const cfg = waitConfig(!!f.wait);
  const db = getDb(cfg.DATABASE_URL);
  const out = output(!!f.json);
  let undo = await operation(() => requestUndo(db, actor(), restoreId));
  if (f.wait) {
    await awaitJob(db, cfg.worker!, { kind: 'restore', key: undo.id }, async () => {
      undo = (await restoreById(db, undo.id))!;
      return { status: undo.status, progress: undo.phase ?? undefined };
    }, out.info);
  }
  const body = restoreJson(undo);
  out.result({ restore: body }, () =>
    undo.status === 'completed'
      ? `Undo ${undo.id} completed: the tenant is back as it was before restore ${restoreId}.`
      : undo.status === 'failed'
        ? `Undo ${undo.id} FAILED (the tenant is unchanged): ${undo.errorMessage}`
        : `Undo ${undo.id} queued (${undo.status}).`,
  );
  return undo.status === 'failed' ? EXIT.jobFailed : EXIT.ok;
}
