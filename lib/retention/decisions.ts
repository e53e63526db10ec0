// What prune does with each backup (docs/design.md "Retention"). Pure: the caller reads the catalog
// (and, for orphans, lists the stores), calls this, records the decisions, then deletes — so
// `strata prune --dry-run` shows exactly the decisions a real run would act on.
import { COPY_READ_ORDER, type BackupStatus, type StorageTier } from '../domain.ts';
import { isoUtc } from '../iso.ts';

/**
 * How often the worker prunes (worker/maintenance.ts) and what `strata cost simulate` assumes. An
 * expired copy is still stored, and billed, until the next prune: hourly keeps that under an hour,
 * where a daily prune kept a 1-day S3 Standard copy up to two days. A run reads the catalog and
 * lists each bucket once (one LIST per 1,000 objects), so running it often costs little.
 */
export const PRUNE_EVERY_SECONDS = 3600;

export interface PruneCandidate {
  id: string;
  tenantId: string;
  status: BackupStatus;
  startedAt: Date | null;
  /**
   * The internal serial key. Not used for ordering: docs/design.md breaks started_at ties by id,
   * because seq changes after a catalog rebuild and a decision must not.
   */
  seq?: number;
  expiresAt: Date | null;
  legalHold: boolean;
  /** The tenant has disappeared from the platform's `tenants` table. */
  tenantRemoved: boolean;
  /** For failed backups: false when nothing was ever uploaded. Unknown (undefined) counts as true. */
  hasObjects?: boolean;
  /**
   * The backup point this row is a copy of (one dump stored in several places). Undefined: the row
   * is a backup point of its own.
   */
  dumpGroup?: string;
  /** Where the copy lives: breaks ties when the floor keeps one copy of several. */
  storageTier?: StorageTier;
}

/** snake_case: printed as-is by `strata prune --json`. */
export interface Decision {
  backup_id: string;
  action: 'delete' | 'keep';
  reason: string;
}

/**
 * Objects found in a store under backups/<tenant>/<YYYY>/<MM>/<uuid>/ whose backup id has no live
 * catalog row (none, or one already marked deleted) — e.g. an upload that died before its row was
 * written, or a delete that stopped half way.
 */
export interface OrphanObjects {
  backupId: string;
  tenantId: string;
  /** The newest object under the prefix: the upload may still be going on. */
  lastModified: Date;
  hasManifest: boolean;
  /** A `legal-hold` marker object is present. */
  legalHold: boolean;
}

export interface PruneOptions {
  orphanObjects?: OrphanObjects[];
}

const ORPHAN_MIN_AGE_MS = 24 * 3_600_000;

/** Code-unit order, the same in every locale (localeCompare is not). */
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Newest first: started_at desc (a missing started_at sorts oldest), then id desc. */
export function compareNewestFirst(a: PruneCandidate, b: PruneCandidate): number {
  const sa = a.startedAt?.getTime() ?? -Infinity;
  const sb = b.startedAt?.getTime() ?? -Infinity;
  if (sa !== sb) return sb - sa;
  return compareText(b.id, a.id);
}

/** Output order: tenant id, then newest first — the same whatever order the input came in. */
function compareForOutput(a: PruneCandidate, b: PruneCandidate): number {
  return compareText(a.tenantId, b.tenantId) || compareNewestFirst(a, b);
}

const pointOf = (b: PruneCandidate) => b.dumpGroup ?? b.id;

/** Kept whatever the floor says: not expired, never expiring, or on legal hold. */
const keptAnyway = (b: PruneCandidate, now: Date) => b.legalHold || b.expiresAt === null || b.expiresAt.getTime() > now.getTime();

/** Which copy the floor keeps when every copy of the newest point has expired: the longest-lived, then the best to read. */
function compareFloorCopy(a: PruneCandidate, b: PruneCandidate): number {
  const ea = a.expiresAt?.getTime() ?? Infinity;
  const eb = b.expiresAt?.getTime() ?? Infinity;
  if (ea !== eb) return eb - ea;
  const rank = (c: PruneCandidate) => (c.storageTier ? COPY_READ_ORDER.indexOf(c.storageTier) : COPY_READ_ORDER.length);
  return rank(a) - rank(b) || compareText(a.id, b.id);
}

/**
 * The floor prune never crosses: the newest completed backup point (latest started_at, then id) of
 * each active (not removed) tenant keeps at least one copy. When one of its copies stays anyway
 * (unexpired or held) the floor holds nothing back; otherwise it keeps one copy, the longest-lived.
 */
function floorIds(backups: PruneCandidate[], now: Date): Set<string> {
  const newest = new Map<string, PruneCandidate>();
  const points = new Map<string, PruneCandidate[]>();
  for (const b of backups) {
    if (b.status !== 'completed' || b.tenantRemoved) continue;
    const current = newest.get(b.tenantId);
    if (!current || compareNewestFirst(b, current) < 0) newest.set(b.tenantId, b);
    const key = `${b.tenantId}\u0000${pointOf(b)}`;
    const copies = points.get(key);
    if (copies) copies.push(b);
    else points.set(key, [b]);
  }
  const floor = new Set<string>();
  for (const top of newest.values()) {
    const copies = points.get(`${top.tenantId}\u0000${pointOf(top)}`)!;
    if (copies.some((c) => keptAnyway(c, now))) continue;
    floor.add(copies.sort(compareFloorCopy)[0]!.id);
  }
  return floor;
}

function decideCompleted(b: PruneCandidate, now: Date, floor: Set<string>): Decision {
  const keep = (reason: string): Decision => ({ backup_id: b.id, action: 'keep', reason });
  if (b.expiresAt === null) return keep(b.legalHold ? 'legal hold; no expiry' : 'no expiry');
  const expired = b.expiresAt.getTime() <= now.getTime();
  if (!expired) {
    return keep(`${b.legalHold ? 'legal hold; ' : ''}retained until ${isoUtc(b.expiresAt)}`);
  }
  if (b.legalHold) return keep(`legal hold (expired ${isoUtc(b.expiresAt)})`);
  if (floor.has(b.id)) return keep(`newest backup of tenant (floor; expired ${isoUtc(b.expiresAt)})`);
  const removed = b.tenantRemoved ? ' (tenant removed: no newest-backup floor)' : '';
  return { backup_id: b.id, action: 'delete', reason: `expired ${isoUtc(b.expiresAt)}${removed}` };
}

function decideFailed(b: PruneCandidate): Decision {
  // A hold is a promise to keep everything named in it, even a failed attempt's leftovers.
  if (b.legalHold) return { backup_id: b.id, action: 'keep', reason: 'legal hold (failed backup)' };
  if (b.hasObjects === false) return { backup_id: b.id, action: 'keep', reason: 'failed backup; no objects stored' };
  return { backup_id: b.id, action: 'delete', reason: 'failed backup' };
}

/**
 * Manifest-less objects are removed once their newest object is older than 24 h: younger ones may
 * belong to an upload still running (the manifest is written last). Objects WITH a manifest but
 * no catalog row are never deleted here — `strata catalog rebuild` brings them back.
 */
function decideOrphan(o: OrphanObjects, now: Date): Decision | null {
  if (o.hasManifest) return null;
  const keep = (reason: string): Decision => ({ backup_id: o.backupId, action: 'keep', reason });
  if (o.legalHold) return keep('objects without a manifest: legal hold marker present');
  if (now.getTime() - o.lastModified.getTime() < ORPHAN_MIN_AGE_MS) {
    return keep('objects without a manifest, younger than 24 h (upload may be in progress)');
  }
  return { backup_id: o.backupId, action: 'delete', reason: 'objects without a manifest, older than 24 h' };
}

/**
 * One decision per completed or failed backup (pending/running are not prune's business,
 * deleted ones are done), in order of tenant, then newest first; then one per manifest-less
 * orphan object set (by tenant, then backup id). Rules:
 * - completed, not expired (expires_at > now) or never expiring → keep "retained until …";
 * - completed, expired (expires_at ≤ now) → delete "expired …", unless on legal hold (keep
 *   "legal hold …") or it is the last copy of its active tenant's newest completed backup point
 *   (keep "newest backup of tenant (floor …)"); a removed tenant has no floor;
 * - failed → delete "failed backup" (its objects), unless held or known to have no objects.
 * Orphans whose id matches a live (not deleted) catalog row are ignored: the row decides.
 * Deterministic: the same input in any order gives the same decisions in the same order.
 */
export function pruneDecisions(backups: PruneCandidate[], now: Date, opts: PruneOptions = {}): Decision[] {
  const floor = floorIds(backups, now);
  const decisions = backups
    .filter((b) => b.status === 'completed' || b.status === 'failed')
    .sort(compareForOutput)
    .map((b) => (b.status === 'completed' ? decideCompleted(b, now, floor) : decideFailed(b)));

  const live = new Set(backups.filter((b) => b.status !== 'deleted').map((b) => b.id));
  const orphans = (opts.orphanObjects ?? [])
    .filter((o) => !live.has(o.backupId))
    .sort((a, b) => compareText(a.tenantId, b.tenantId) || compareText(a.backupId, b.backupId))
    .map((o) => decideOrphan(o, now))
    .filter((d): d is Decision => d !== null);
  return [...decisions, ...orphans];
}

/**
 * `strata tenant remove --purge-backups` (the erasure path) would delete a backup that must stay.
 * Names the blocking backups so the operator can lift the hold or wait for the run to finish.
 */
export class PurgeRefusedError extends Error {
  readonly code = 'conflict';
  constructor(
    /** Backups on legal hold: docs/design.md says the purge refuses while any is held. */
    readonly heldBackupIds: string[],
    /** Backups still running: their objects are being written, so "all deleted" could not be true. */
    readonly runningBackupIds: string[],
  ) {
    const parts: string[] = [];
    if (heldBackupIds.length) parts.push(`on legal hold: ${heldBackupIds.join(', ')}`);
    if (runningBackupIds.length) parts.push(`still running: ${runningBackupIds.join(', ')}`);
    super(`refusing to purge the tenant's backups; ${parts.join('; ')}`);
    this.name = 'PurgeRefusedError';
  }
}

/**
 * Delete every backup of a tenant now, ignoring expiry and the floor. All or nothing: throws
 * PurgeRefusedError (nothing decided) if any backup is on legal hold or running. Pending backups
 * are deleted too (marking them deleted stops a worker from claiming them). Already-deleted
 * backups get no decision. Same order as pruneDecisions.
 */
export function purgeDecisions(backups: PruneCandidate[]): Decision[] {
  const live = backups.filter((b) => b.status !== 'deleted').sort(compareForOutput);
  const held = live.filter((b) => b.legalHold).map((b) => b.id);
  const running = live.filter((b) => b.status === 'running').map((b) => b.id);
  if (held.length || running.length) throw new PurgeRefusedError(held, running);
  return live.map((b) => ({ backup_id: b.id, action: 'delete', reason: 'tenant purge (--purge-backups)' }));
}
