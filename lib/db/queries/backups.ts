// Backup history: a tenant's backups newest first, with filters (dashboard) or cursors (API).
import { and, count, desc, eq, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { newestFirst } from '../order.ts';
import { backupJobs, restoreJobs, type BackupJobRow } from '../schema.ts';

export interface BackupFilters {
  status?: string;
  storageTier?: string;
  origin?: string;
}

function filterWhere(tenantId: string, f: BackupFilters): SQL {
  const parts: SQL[] = [eq(backupJobs.tenantId, tenantId)];
  if (f.status) parts.push(eq(backupJobs.status, f.status));
  if (f.storageTier) parts.push(eq(backupJobs.storageTier, f.storageTier));
  if (f.origin) parts.push(eq(backupJobs.origin, f.origin));
  return and(...parts)!;
}

/** One page of a tenant's history (page numbers from 1) and the total count. */
export async function backupHistory(db: Db, tenantId: string, filters: BackupFilters, page: number, pageSize = 20) {
  const where = filterWhere(tenantId, filters);
  const [rows, [total]] = await Promise.all([
    db
      .select()
      .from(backupJobs)
      .where(where)
      .orderBy(newestFirst(backupJobs.createdAt), newestFirst(backupJobs.seq))
      .limit(pageSize)
      .offset((Math.max(1, page) - 1) * pageSize),
    db.select({ n: count() }).from(backupJobs).where(where),
  ]);
  return { rows, total: Number(total?.n ?? 0), page, pageSize };
}

/** Opaque cursor: the last row's created_at and seq (valid for a while; never an identifier). */
export function encodeCursor(row: Pick<BackupJobRow, 'createdAt' | 'seq'>): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.seq}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; seq: number } | null {
  const [at, seq] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  const n = Number(seq);
  if (Number.isNaN(createdAt.getTime()) || !Number.isSafeInteger(n)) return null;
  return { createdAt, seq: n };
}

/** Newest first, `limit` rows after the cursor; next_cursor null on the last page. */
export async function backupsAfter(db: Db, tenantId: string, limit: number, cursor: { createdAt: Date; seq: number } | null) {
  const after = cursor
    ? or(lt(backupJobs.createdAt, cursor.createdAt), and(eq(backupJobs.createdAt, cursor.createdAt), lt(backupJobs.seq, cursor.seq)))
    : undefined;
  const rows = await db
    .select()
    .from(backupJobs)
    .where(and(eq(backupJobs.tenantId, tenantId), after))
    .orderBy(newestFirst(backupJobs.createdAt), newestFirst(backupJobs.seq))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const next = rows.length > limit ? encodeCursor(page[page.length - 1]!) : null;
  return { rows: page, nextCursor: next };
}

/** The rows of these backup ids (any order; unknown ids are left out). */
export async function backupsByIds(db: Db, ids: string[]): Promise<BackupJobRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(backupJobs).where(inArray(backupJobs.id, ids));
}

export async function backupById(db: Db, id: string): Promise<BackupJobRow | null> {
  const rows = await db.select().from(backupJobs).where(eq(backupJobs.id, id)).limit(1);
  return rows[0] ?? null;
}

export interface ActiveJob {
  kind: 'backup' | 'restore';
  id: string;
  tenantId: string;
  status: string;
  detail: string;
  progressBytes: number;
  /** Bytes expected (previous dump size for backups, the restore's total); null when unknown. */
  totalBytes: number | null;
  startedAt: Date | null;
  createdAt: Date;
}

/** Pending and running backups and restores, for the live progress panel. */
export async function activeJobs(db: Db, tenantId?: string): Promise<ActiveJob[]> {
  const backups = await db
    .select({
      id: backupJobs.id,
      tenantId: backupJobs.tenantId,
      status: backupJobs.status,
      storageTier: backupJobs.storageTier,
      origin: backupJobs.origin,
      progressBytes: backupJobs.progressBytes,
      startedAt: backupJobs.startedAt,
      createdAt: backupJobs.createdAt,
      expected: sql<number | null>`(select p.dump_size_bytes from backup_jobs p where p.tenant_id = ${backupJobs.tenantId}
        and p.status = 'completed' order by p.completed_at desc limit 1)`,
    })
    .from(backupJobs)
    .where(and(inArray(backupJobs.status, ['pending', 'running']), tenantId ? eq(backupJobs.tenantId, tenantId) : undefined))
    .orderBy(desc(backupJobs.createdAt))
    .limit(200);
  const restores = await db
    .select()
    .from(restoreJobs)
    .where(and(inArray(restoreJobs.status, ['pending', 'running']), tenantId ? eq(restoreJobs.tenantId, tenantId) : undefined))
    .orderBy(desc(restoreJobs.createdAt))
    .limit(200);
  return [
    ...backups.map((b) => ({
      kind: 'backup' as const,
      id: b.id,
      tenantId: b.tenantId,
      status: b.status,
      detail: `${b.origin} backup → ${b.storageTier}`,
      progressBytes: b.progressBytes,
      totalBytes: b.expected === null ? null : Number(b.expected),
      startedAt: b.startedAt,
      createdAt: b.createdAt,
    })),
    ...restores.map((r) => ({
      kind: 'restore' as const,
      id: r.id,
      tenantId: r.tenantId,
      status: r.status,
      detail: r.undoes ? 'undo of a restore' : `${r.mode === 'clone' ? 'clone into' : 'restore into'} ${r.targetSchema}${r.phase ? ` · ${r.phase}` : ''}`,
      progressBytes: r.progressBytes,
      totalBytes: r.totalBytes,
      startedAt: r.startedAt,
      createdAt: r.createdAt,
    })),
  ];
}

export interface TierUsage {
  storageTier: string;
  bytes: number;
  backups: number;
  /** dump + manifest per backup, plus a legal-hold marker where one is on. */
  objects: number;
}

export async function storageByTier(db: Db): Promise<TierUsage[]> {
  const res = await db
    .select({
      storageTier: backupJobs.storageTier,
      bytes: sql<number>`coalesce(sum(${backupJobs.backupSizeBytes}), 0)::bigint`,
      backups: sql<number>`count(*)::int`,
      holds: sql<number>`count(*) filter (where ${backupJobs.legalHold})::int`,
    })
    .from(backupJobs)
    .where(eq(backupJobs.status, 'completed'))
    .groupBy(backupJobs.storageTier);
  return res.map((r) => ({
    storageTier: r.storageTier,
    bytes: Number(r.bytes),
    backups: Number(r.backups),
    objects: Number(r.backups) * 2 + Number(r.holds),
  }));
}

/** A tenant's completed backups and those on legal hold: what removing it would keep or erase. */
export async function tenantBackupCounts(db: Db, tenantId: string): Promise<{ completed: number; held: number }> {
  const [row] = await db
    .select({
      completed: sql<number>`count(*) filter (where ${backupJobs.status} = 'completed')::int`,
      held: sql<number>`count(*) filter (where ${backupJobs.legalHold} and ${backupJobs.status} <> 'deleted')::int`,
    })
    .from(backupJobs)
    .where(eq(backupJobs.tenantId, tenantId));
  return { completed: Number(row?.completed ?? 0), held: Number(row?.held ?? 0) };
}
