// The file part of a restore (design.md "Tenant files"), after the database part has swapped in (or,
// files_only, instead of it): the backup copy's signed manifest and file index, then every object
// whose content differs written back under the tenant's prefix or a clone's. Its outcome is recorded
// on the row (files_status, files_report, files_error); a failed file does not undo the database
// part, and running the file part again (files_only) writes only what still differs.
import { eq } from 'drizzle-orm';
import { restoreJobs, type RestoreJobRow } from '../db/schema.ts';
import { describeFilesFailure, restoreTenantFiles, type FilesRestoreReport } from './files.ts';
import { filesSource } from '../files/source.ts';
import { restoreCopy } from './best-copy.ts';
import type { RestoreContext } from './context.ts';
import { RestoreRequestError, UntrustedBackupError } from './errors.ts';
import { loadIdentities } from './fetch-chunks.ts';
import { auditRefusal, readTrustedManifest } from './manifest.ts';
import { redactSecrets } from '../process/redact.ts';
import { httpStatusOf, isPermanentStatus } from '../storage/errors.ts';

export interface FilesPhaseResult {
  report: FilesRestoreReport;
  /** Null when every file was written or already equal. */
  error: string | null;
}

/** Runs the file part and records it on the row; throws only when it could not start (refusals, cancellation). */
export async function runFilesPhase(ctx: RestoreContext, row: RestoreJobRow): Promise<FilesPhaseResult> {
  const { db, config, signal } = ctx;
  const backup = await restoreCopy(db, row);
  if (backup.status !== 'completed' || !backup.backupLocation) throw new RestoreRequestError(`backup ${backup.id} is ${backup.status}, not completed`, 'backup_id');
  if (!backup.includeFiles) throw new RestoreRequestError(`backup ${backup.id} holds no files (taken without includeFiles)`, 'restore_files');
  const { manifest, store, signedBy } = await readTrustedManifest(ctx, backup, { allowUnsigned: false });
  // The index is trusted through the manifest's signature only: an unsigned manifest never names files to write.
  if (!signedBy) throw new UntrustedBackupError(backup.id, backup.backupLocation, 'its manifest is unsigned; files are restored only from a signed backup');
  if (manifest.files?.count !== backup.filesCount) {
    await auditRefusal(db, backup, new UntrustedBackupError(backup.id, backup.backupLocation, `its manifest lists ${manifest.files?.count ?? 'no'} files, the catalog ${backup.filesCount}`));
  }
  const identityFile = config.BACKUP_DECRYPTION_IDENTITY_FILE;
  if (!identityFile) throw new RestoreRequestError('BACKUP_DECRYPTION_IDENTITY_FILE is required to restore files');
  const source = await filesSource(db, config, row.tenantId);
  const targetPrefix = row.filesPrefix ?? source.prefix;
  const bucket = source.open();
  let last = 0;
  const save = (report: FilesRestoreReport) => db.update(restoreJobs).set({ filesReport: report }).where(eq(restoreJobs.id, row.id));
  try {
    await db.update(restoreJobs).set({ phase: 'files', filesStatus: 'running', filesError: null }).where(eq(restoreJobs.id, row.id));
    const report = await restoreTenantFiles({
      store,
      manifest,
      identities: loadIdentities(identityFile),
      bucket,
      targetPrefix,
      deleteExtra: row.deleteExtra,
      signal,
      onProgress: (r) => {
        const now = Date.now();
        if (now - last < 1000) return;
        last = now;
        void save(r).catch(() => {});
      },
    }).catch((err: unknown) => {
      // The bucket refusing the listing (missing, no access): a second try would only wait longer.
      if (isPermanentStatus(httpStatusOf(err))) {
        throw new RestoreRequestError(`the files bucket ${bucket.location(targetPrefix)} refused: ${err instanceof Error ? err.message : String(err)}`, 'restore_files');
      }
      throw err;
    });
    const error = report.failed.length > 0 ? redactSecrets(describeFilesFailure(report), config).slice(0, 4000) : null;
    await db
      .update(restoreJobs)
      .set({ filesReport: report, filesStatus: error ? 'failed' : 'completed', filesError: error })
      .where(eq(restoreJobs.id, row.id));
    return { report, error };
  } finally {
    bucket.destroy();
  }
}
