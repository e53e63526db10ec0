// "A backup" as docs/design.md "Data formats" defines it: the one JSON shape of a backup in the CLI's
// --json output, the HTTP API and manifest.json. snake_case, ISO-8601 UTC times with Z, sizes as
// numbers, `id` = the backup's UUID (the internal `seq` never leaves the database).
import type { BackupJobRow } from '../db/schema.ts';
import { isoUtc } from '../iso.ts';

export interface BackupJson {
  id: string;
  tenant_id: string;
  tier_id: string | null;
  backup_type: string;
  storage_tier: string;
  origin: string;
  status: string;
  backup_size_bytes: number | null;
  dump_size_bytes: number | null;
  /** Stored bytes this copy added (an incremental copy: only its new chunks). */
  added_bytes: number | null;
  backup_location: string | null;
  sha256_stored: string | null;
  sha256_dump: string | null;
  started_at: string | null;
  completed_at: string | null;
  expires_at: string | null;
  legal_hold: boolean;
  error_message: string | null;
  requested_by: string;
  /** The backup point also holds the tenant's files (design.md "Tenant files"). */
  include_files?: boolean;
  files_count?: number | null;
  files_bytes?: number | null;
}

/** `date` truncated to the second: the precision of every time Strata shows. */
export function wholeSecond(date: Date = new Date()): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

type BackupFields = Pick<
  BackupJobRow,
  | 'id'
  | 'tenantId'
  | 'tierId'
  | 'backupType'
  | 'storageTier'
  | 'origin'
  | 'status'
  | 'backupSizeBytes'
  | 'dumpSizeBytes'
  | 'addedBytes'
  | 'backupLocation'
  | 'sha256Stored'
  | 'sha256Dump'
  | 'startedAt'
  | 'completedAt'
  | 'expiresAt'
  | 'legalHold'
  | 'errorMessage'
  | 'requestedBy'
> &
  Partial<Pick<BackupJobRow, 'includeFiles' | 'filesCount' | 'filesBytes'>>;

export function backupJson(row: BackupFields): BackupJson {
  return {
    id: row.id,
    tenant_id: row.tenantId,
    tier_id: row.tierId,
    backup_type: row.backupType,
    storage_tier: row.storageTier,
    origin: row.origin,
    status: row.status,
    backup_size_bytes: row.backupSizeBytes === null ? null : Number(row.backupSizeBytes),
    dump_size_bytes: row.dumpSizeBytes === null ? null : Number(row.dumpSizeBytes),
    added_bytes: row.addedBytes === null ? null : Number(row.addedBytes),
    backup_location: row.backupLocation,
    sha256_stored: row.sha256Stored,
    sha256_dump: row.sha256Dump,
    started_at: isoUtc(row.startedAt),
    completed_at: isoUtc(row.completedAt),
    expires_at: isoUtc(row.expiresAt),
    legal_hold: row.legalHold,
    error_message: row.errorMessage,
    requested_by: row.requestedBy,
    ...(row.includeFiles
      ? { include_files: true, files_count: row.filesCount ?? null, files_bytes: row.filesBytes === null || row.filesBytes === undefined ? null : Number(row.filesBytes) }
      : {}),
  };
}
