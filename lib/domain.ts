// The words of docs/design.md, as values and types. Everything that validates input imports from here.
import { z } from 'zod';

export const PLANS = ['basic', 'advanced', 'premium'] as const;
export type Plan = (typeof PLANS)[number];

/** Every object Strata writes to a bucket lives under this prefix (backups and chunks). */
export const BACKUPS_ROOT = 'backups/';

export const STORAGE_TIERS = ['s3_standard', 's3_ia', 'b2_cold'] as const;
export type StorageTier = (typeof STORAGE_TIERS)[number];

export const SCHEDULE_TYPES = ['daily', 'weekly', 'monthly'] as const;
export type ScheduleType = (typeof SCHEDULE_TYPES)[number];

export const ORIGINS = ['manual', ...SCHEDULE_TYPES] as const;
export type Origin = (typeof ORIGINS)[number];
/** full: one stored dump object per tier; incremental: only the chunks a tier lacks (design.md "Incremental backups"). */
export const BACKUP_TYPES = ['full', 'incremental'] as const;
export type BackupType = (typeof BACKUP_TYPES)[number];

export const BACKUP_STATUSES = ['pending', 'running', 'completed', 'failed', 'deleted'] as const;
export type BackupStatus = (typeof BACKUP_STATUSES)[number];
export const RESTORE_STATUSES = ['pending', 'running', 'completed', 'failed', 'undone'] as const;
export const RESTORE_MODES = ['in_place', 'clone'] as const;
export type RestoreMode = (typeof RESTORE_MODES)[number];

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Where each scheduled origin is stored under the `seed` layout (design.md "Schedules"): the tier
 * table as the business case wrote it. Other layouts give an origin several copies
 * (lib/retention/layouts.ts).
 */
export const SCHEDULE_STORAGE: Record<ScheduleType, StorageTier> = {
  daily: 's3_standard',
  weekly: 's3_ia',
  monthly: 'b2_cold',
};

/**
 * A plan's copy layout (design.md "Retention"): which copies each scheduled origin gets.
 * `seed` = SCHEDULE_STORAGE, one copy per origin; `cost-optimized` = the newest daily hot in
 * S3 Standard for a day, every retained copy in B2.
 */
export const LAYOUTS = ['seed', 'cost-optimized'] as const;
export type Layout = (typeof LAYOUTS)[number];
export const layoutSchema = z.enum(LAYOUTS, { error: `layout must be one of ${LAYOUTS.join(', ')}` });

/** Which copy of a backup point a restore or a verification reads first: cheapest and fastest to read. */
export const COPY_READ_ORDER: readonly StorageTier[] = ['s3_standard', 'b2_cold', 's3_ia'];

export const TENANT_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const tenantIdSchema = z
  .string()
  .regex(TENANT_ID_RE, 'tenant id must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$');
export const uuidSchema = z.uuid('must be a UUID');
/** A Postgres identifier: 1..63 bytes, no NUL. */
export const schemaNameSchema = z
  .string()
  .min(1, 'schema name must not be empty')
  .refine((s) => Buffer.byteLength(s, 'utf8') <= 63, 'schema name must be at most 63 bytes')
  .refine((s) => !s.includes('\0'), 'schema name must not contain NUL')
  .refine((s) => !/^pg_/i.test(s), 'schema names starting with pg_ are reserved by PostgreSQL');
export const planSchema = z.enum(PLANS);
export const storageTierSchema = z.enum(STORAGE_TIERS);

/**
 * Owner marks (docs/design.md §12): a scratch database and a job's temp dir carry the key of the job
 * that made them in their name — a verification's or restore's id, a backup's dump_group — so the
 * sweep (worker/leftovers.ts) removes exactly those whose job is over or lost its lease, never by age.
 */
export type LeftoverOwner = { kind: 'backup' | 'restore' | 'verify'; jobKey: string };
export type ScratchPurpose = 'verify' | 'clone';
const compactKey = (key: string) => uuidSchema.parse(key).replaceAll('-', '').toLowerCase();
const expandKey = (hex: string) => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
const SCRATCH_NAME = /^strata_(verify|clone)_([0-9a-f]{32})_[0-9a-f]{12}$/;
const TEMP_DIR_NAME = /^strata-(backup|restore|verify)-([0-9a-f]{32})-[A-Za-z0-9]+$/;

/** `strata_<purpose>_<job key, 32 hex>_<12 hex>`: 60 bytes, under PostgreSQL's 63. */
export function scratchDatabaseName(purpose: ScratchPurpose, jobKey: string, randomHex: string): string {
  return `strata_${purpose}_${compactKey(jobKey)}_${randomHex}`;
}

/** The owner of a scratch database by its name (a clone belongs to a restore), or null when not Strata's. */
export function scratchDatabaseOwner(name: string): LeftoverOwner | null {
  const m = SCRATCH_NAME.exec(name);
  return m ? { kind: m[1] === 'clone' ? 'restore' : 'verify', jobKey: expandKey(m[2]!) } : null;
}

/** The prefix a job's temp dir is made with (mkdtemp appends six characters). */
export function jobTempDirPrefix(owner: LeftoverOwner): string {
  return `strata-${owner.kind}-${compactKey(owner.jobKey)}-`;
}

/** The owner of a temp dir by its name, or null when it is not a job's temp dir. */
export function jobTempDirOwner(name: string): LeftoverOwner | null {
  const m = TEMP_DIR_NAME.exec(name);
  return m ? { kind: m[1] as LeftoverOwner['kind'], jobKey: expandKey(m[2]!) } : null;
}
