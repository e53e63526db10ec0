// The catalog side of a backup run: the group's rows, the tenant as the platform knows it, and the
// status changes pending → running → completed | failed.
import type { FilesProgress } from '../files/backup.ts';
import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { findPlatformTenant } from '../db/platform.ts';
import { backupJobs, backupRetentionPolicies, tenantState, type BackupJobRow } from '../db/schema.ts';
import { ORIGINS, type Origin, type StorageTier } from '../domain.ts';
import type { Config } from '../env.ts';
import { copyExpiry } from '../retention/layouts.ts';
import type { BackupTarget } from './objects.ts';
import type { DumpPipelineResult } from './pipeline.ts';

const ACTIVE = ['pending', 'running'];

/** The rows were moved on by someone else (a lost lease, a cancel) while this run worked on them. */
export class GroupTakenOverError extends Error {
  constructor(dumpGroup: string) {
    super(`backup group ${dumpGroup} is no longer running under this worker`);
    this.name = 'GroupTakenOverError';
  }
}

export interface CatalogTenant {
  id: string;
  name: string;
  schemaName: string;
  /** The plan now (tenant_subscriptions.tier_id); null when the tenant has no subscription row. */
  tierId: string | null;
}

export async function loadGroup(db: Db, dumpGroup: string): Promise<BackupJobRow[]> {
  const rows = await db
    .select()
    .from(backupJobs)
    .where(and(eq(backupJobs.dumpGroup, dumpGroup), inArray(backupJobs.status, ACTIVE)))
    .orderBy(backupJobs.seq);
  // Origins may differ: coinciding schedules (daily + weekly + monthly) share one dump, one row per
  // storage tier, each keeping its own origin and so its own expiry (docs/design.md "Schedules").
  const tenantIds = new Set(rows.map((r) => r.tenantId));
  if (tenantIds.size > 1) {
    throw new Error(`backup group ${dumpGroup} mixes tenants; one dump group is one tenant's one dump`);
  }
  return rows;
}

export async function resolveTenant(db: Db, tenantId: string): Promise<CatalogTenant> {
  const tenant = await findPlatformTenant(db, tenantId);
  if (!tenant) throw new Error(`tenant ${tenantId} is not in the tenants table (removed?): nothing to back up`);
  return tenant;
}

export async function markRunning(db: Db, targets: BackupTarget[], tierId: string | null, startedAt: Date): Promise<void> {
  await db.transaction(async (tx) => {
    for (const t of targets) {
      const updated = await tx
        .update(backupJobs)
        .set({
          status: 'running',
          tierId,
          startedAt,
          completedAt: null,
          backupLocation: t.location,
          progressBytes: 0,
          errorMessage: null,
        })
        .where(and(eq(backupJobs.id, t.row.id), inArray(backupJobs.status, ACTIVE)))
        .returning({ id: backupJobs.id });
      if (updated.length !== 1) throw new GroupTakenOverError(t.row.dumpGroup);
    }
  });
}

/**
 * The latest of a stream of values, written at most one statement at a time: a report arriving while
 * a write is in flight replaces the waiting one. A failed write is ignored: progress is informational,
 * a missed write is not a failed backup.
 */
function latestOnly<T>(write: (value: T) => Promise<unknown>): { report: (value: T) => void; settle: () => Promise<void> } {
  let inFlight: Promise<void> | undefined;
  let waiting: { value: T } | undefined;
  const start = (value: T): Promise<void> =>
    write(value)
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        const next = waiting;
        waiting = undefined;
        inFlight = next === undefined ? undefined : start(next.value);
        return inFlight;
      });
  return {
    report(value) {
      if (inFlight) waiting = { value };
      else inFlight = start(value);
    },
    async settle() {
      while (inFlight) await inFlight;
    },
  };
}

const runningRowsOf = (dumpGroup: string) => and(eq(backupJobs.dumpGroup, dumpGroup), eq(backupJobs.status, 'running'));

/** progress_bytes of the group's running rows (the pipeline reports about once a second). */
export function recordProgress(db: Db, dumpGroup: string): { report: (bytes: number) => void; settle: () => Promise<void> } {
  return latestOnly((bytes: number) => db.update(backupJobs).set({ progressBytes: bytes }).where(runningRowsOf(dumpGroup)));
}

/** files_progress of the group's running rows (objects and bytes done/total): about once a second, and always the last. */
export function recordFilesProgress(db: Db, dumpGroup: string): { report: (p: FilesProgress) => void; settle: () => Promise<void> } {
  const writer = latestOnly((p: FilesProgress) => db.update(backupJobs).set({ filesProgress: p }).where(runningRowsOf(dumpGroup)));
  let last = 0;
  return {
    report(p) {
      const now = Date.now();
      if (now - last < 1000 && p.objects_done < p.objects_total) return;
      last = now;
      writer.report(p);
    },
    settle: writer.settle,
  };
}

/** What one copy stores: for a full backup the same object in every tier; for an incremental one its chunks. */
export interface StoredCopy {
  storedBytes: number;
  sha256Stored: string;
  addedBytes: number;
}

/** The group's rows as they will be once completed: sizes, hashes, completed_at and expires_at by policy. */
export async function withExpiry(
  db: Db,
  config: Config,
  targets: BackupTarget[],
  tenant: CatalogTenant,
  dump: Pick<DumpPipelineResult, 'dumpBytes' | 'sha256Dump'>,
  copies: StoredCopy[],
  completedAt: Date,
): Promise<BackupJobRow[]> {
  const policy = tenant.tierId
    ? ((await db.select().from(backupRetentionPolicies).where(eq(backupRetentionPolicies.tierId, tenant.tierId)))[0] ?? null)
    : null;
  return targets.map((t, i) => {
    const copy = copies[i]!;
    if (!ORIGINS.includes(t.row.origin as Origin)) throw new Error(`backup ${t.row.id} has an unknown origin ${JSON.stringify(t.row.origin)}`);
    // Each copy expires on its own: the keep of its (origin, storage tier) under the layout it was planned with.
    const expiresAt = copyExpiry(
      { origin: t.row.origin as Origin, storageTier: t.row.storageTier as StorageTier, layout: t.row.layout, completedAt },
      policy,
      { manualRetentionDays: config.STRATA_MANUAL_RETENTION_DAYS },
    );
    return {
      ...t.row,
      tierId: tenant.tierId,
      status: 'completed',
      startedAt: t.startedAt,
      backupSizeBytes: copy.storedBytes,
      dumpSizeBytes: dump.dumpBytes,
      addedBytes: copy.addedBytes,
      progressBytes: copy.storedBytes,
      sha256Stored: copy.sha256Stored,
      sha256Dump: dump.sha256Dump,
      backupLocation: t.location,
      completedAt,
      expiresAt,
      errorMessage: null,
    };
  });
}

/** Completed, in one transaction; also records the tenant's last known name, schema and plan in tenant_state. */
export async function markCompleted(db: Db, completed: BackupJobRow[], tenant: CatalogTenant): Promise<void> {
  await db.transaction(async (tx) => {
    for (const row of completed) {
      const updated = await tx
        .update(backupJobs)
        .set({
          status: 'completed',
          tierId: row.tierId,
          backupSizeBytes: row.backupSizeBytes,
          dumpSizeBytes: row.dumpSizeBytes,
          addedBytes: row.addedBytes,
          progressBytes: row.progressBytes,
          sha256Stored: row.sha256Stored,
          sha256Dump: row.sha256Dump,
          backupLocation: row.backupLocation,
          filesPrefix: row.filesPrefix,
          filesCount: row.filesCount,
          filesBytes: row.filesBytes,
          filesStoredBytes: row.filesStoredBytes,
          filesAddedBytes: row.filesAddedBytes,
          // writeManifests signed every manifest before this (issue 13).
          signed: true,
          completedAt: row.completedAt,
          expiresAt: row.expiresAt,
          errorMessage: null,
        })
        .where(and(eq(backupJobs.id, row.id), eq(backupJobs.status, 'running')))
        .returning({ id: backupJobs.id });
      if (updated.length !== 1) throw new GroupTakenOverError(row.dumpGroup);
    }
    await tx
      .insert(tenantState)
      .values({ tenantId: tenant.id, name: tenant.name, schemaName: tenant.schemaName, tierId: tenant.tierId })
      .onConflictDoUpdate({
        target: tenantState.tenantId,
        set: { name: tenant.name, schemaName: tenant.schemaName, tierId: tenant.tierId },
      });
  });
}

export async function markFailed(db: Db, rows: BackupJobRow[], message: string): Promise<void> {
  await db
    .update(backupJobs)
    .set({ status: 'failed', errorMessage: message, progressBytes: 0, completedAt: null })
    .where(and(inArray(backupJobs.id, rows.map((r) => r.id)), inArray(backupJobs.status, ACTIVE)));
}
