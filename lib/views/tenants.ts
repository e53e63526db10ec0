// Tenants for the dashboard: each one's protection comes from lib/tenants/protection.ts (the same
// figures `strata tenant list` prints); this module sorts, searches and looks up single tenants.
import { and, desc, eq, isNotNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import type { Config } from '../env.ts';
import { tenantState } from '../db/schema.ts';
import { findPlatformTenant, platformTenantsSql } from '../db/platform.ts';
import { tenantProtection, type TenantProtection } from '../tenants/protection.ts';

export type { TenantProtection };

const SEVERITY: Record<string, number> = { overdue: 0, failing: 1, paused: 2, ok: 3, unprotected: 4 };

/** Most urgent first: overdue, failing, paused, ok, not protected by plan; then by name. */
export function compareUrgency(a: TenantProtection, b: TenantProtection): number {
  const sa = SEVERITY[a.status === 'ok' && a.failing ? 'failing' : a.status]!;
  const sb = SEVERITY[b.status === 'ok' && b.failing ? 'failing' : b.status]!;
  return sa - sb || a.name.localeCompare(b.name);
}

export async function tenantById(db: Db, config: Config, tenantId: string): Promise<TenantProtection | null> {
  return (await tenantProtection(db, config, { tenantId }))[0] ?? null;
}

/** The platform row only (name, schema): what restore confirmation compares against. */
export async function platformTenant(db: Db, tenantId: string) {
  const t = await findPlatformTenant(db, tenantId);
  return t ? { id: t.id, name: t.name, schemaName: t.schemaName, plan: t.tierId, subscriptionTierId: t.subscriptionTierId } : null;
}

/** Every tenant's platform row, by name: the cross-tenant restore targets (no status needed). */
export async function platformTenants(db: Db) {
  const res = await db.execute<{ id: string; name: string; schema_name: string }>(sql`select t.id, t.name, t.schema_name from ${platformTenantsSql} t order by t.name, t.id`);
  return res.rows.map((r) => ({ id: r.id, name: r.name, schemaName: r.schema_name }));
}

export interface RemovedTenant {
  id: string;
  name: string | null;
  schemaName: string | null;
  plan: string | null;
  removedAt: Date;
}

const removedColumns = {
  id: tenantState.tenantId,
  name: tenantState.name,
  schemaName: tenantState.schemaName,
  plan: tenantState.tierId,
  removedAt: tenantState.removedAt,
};

/** Tenants gone from the platform whose backups stay in the catalog until they expire by policy. */
export async function removedTenants(db: Db, tenantId?: string): Promise<RemovedTenant[]> {
  const rows = await db
    .select(removedColumns)
    .from(tenantState)
    .where(and(isNotNull(tenantState.removedAt), tenantId === undefined ? undefined : eq(tenantState.tenantId, tenantId)))
    .orderBy(desc(tenantState.removedAt));
  return rows.map((r) => ({ ...r, removedAt: r.removedAt! }));
}

export type TenantSort = 'name' | 'id' | 'plan' | 'newest' | 'status' | 'size';

const time = (iso: string | null) => (iso ? Date.parse(iso) : 0);

export function sortTenants(rows: TenantProtection[], sort: TenantSort, dir: 'asc' | 'desc'): TenantProtection[] {
  const key: Record<TenantSort, (a: TenantProtection, b: TenantProtection) => number> = {
    name: (a, b) => a.name.localeCompare(b.name),
    id: (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    plan: (a, b) => (a.tier ?? '').localeCompare(b.tier ?? ''),
    newest: (a, b) => time(a.last_backup_at) - time(b.last_backup_at),
    status: compareUrgency,
    size: (a, b) => a.stored_bytes - b.stored_bytes,
  };
  const sorted = [...rows].sort((a, b) => key[sort](a, b) || a.id.localeCompare(b.id));
  return dir === 'desc' ? sorted.reverse() : sorted;
}

export function searchTenants(rows: TenantProtection[], q: string): TenantProtection[] {
  const needle = q.trim().toLowerCase();
  if (!needle) return rows;
  return rows.filter((r) => [r.id, r.name, r.schema_name, r.tier ?? ''].some((v) => v.toLowerCase().includes(needle)));
}
