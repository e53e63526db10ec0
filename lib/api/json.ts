// The JSON shapes of docs/design.md "Data formats" for restores, schedules and verifications
// (backups: lib/backup/serialize.ts). snake_case, ISO-8601 UTC with Z, `id` = UUID.
import type { RestoreJobRow, ScheduleRow, VerificationRow } from '../db/schema.ts';
import { backupJson } from '../backup/serialize.ts';
import { isoUtc } from '../iso.ts';

export { backupJson };

export function restoreJson(r: RestoreJobRow) {
  return {
    id: r.id,
    tenant_id: r.tenantId,
    backup_id: r.backupId,
    mode: r.mode,
    target_schema: r.targetSchema,
    moved_aside_schema: r.movedAsideSchema,
    undoes: r.undoes,
    status: r.status,
    started_at: isoUtc(r.startedAt),
    completed_at: isoUtc(r.completedAt),
    error_message: r.errorMessage,
    requested_by: r.requestedBy,
    // Beyond the contract's fields (additions are allowed): live progress and undo window.
    phase: r.phase,
    progress_bytes: r.progressBytes,
    total_bytes: r.totalBytes,
    undo_expires_at: isoUtc(r.undoExpiresAt),
    // The copy of the backup point the restore read (the best one unless exact_copy).
    copy_backup_id: r.copyBackupId,
    exact_copy: r.exactCopy,
    // Tenant files (design.md "Tenant files"): asked for, where, and how it went.
    restore_files: r.restoreFiles,
    files_only: r.filesOnly,
    files_prefix: r.filesPrefix,
    delete_extra: r.deleteExtra,
    files_status: r.filesStatus,
    files_report: r.filesReport,
    files_error: r.filesError,
  };
}

export function scheduleJson(s: ScheduleRow) {
  return {
    tenant_id: s.tenantId,
    schedule_type: s.scheduleType,
    storage_tier: s.storageTier,
    is_paused: s.isPaused,
    last_run_at: isoUtc(s.lastRunAt),
    next_run_at: isoUtc(s.nextRunAt),
  };
}

export function verificationJson(v: VerificationRow) {
  return {
    id: v.id,
    backup_id: v.backupId,
    // The copy of the backup point the verification read (the cheapest to read unless exact_copy).
    copy_backup_id: v.copyBackupId,
    exact_copy: v.exactCopy,
    status: v.status,
    tables: v.tables,
    rows: v.rows,
    started_at: isoUtc(v.startedAt),
    completed_at: isoUtc(v.completedAt),
    error_message: v.errorMessage,
  };
}
