// Tenants and their protection: the platform's tenants joined with Strata's catalog.
import { sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import type { Config } from '../../env.ts';
import type { ScheduleType } from '../../domain.ts';
import { nextRunAt } from '../../schedule/next-run.ts';
import { tenantOffsetMinutes } from '../../schedule/offset.ts';
import { overdueStatus, type RpoStatus } from '../../schedule/rpo.ts';

export interface TenantRow {
  id: string;
  name: string;
  schemaName: string;
  plan: string | null;
  newestBackupAt: Date | null;
  newestBackupId: string | null;
  lastOutcome: 'completed' | 'failed' | null;
  lastError: string | null;
  status: RpoStatus;
  /** Overdue from just after this instant (null: paused or not protected). */
  deadline: Date | null;
  failing: boolean;
  storedBytes: number;
  backupCount: number;
}

type Raw = {
  id: string;
  name: string;
  schema_name: string;
  plan: string | null;
  first_seen_at: Date | null;
  created_at: Date | null;
  newest_at: Date | null;
  newest_id: string | null;
  last_status: string | null;
  last_error: string | null;
  stored_bytes: number | null;
  backup_count: number | null;
  schedules: { type: ScheduleType; paused: boolean; created_at: string }[] | null;
};

const SEVERITY: Record<string, number> = { overdue: 0, failing: 1, paused: 2, ok: 3, unprotected: 4 };

/** Most urgent first: overdue, failing, paused, ok, not protected by plan; then by name. */
export function compareUrgency(a: TenantRow, b: TenantRow): number {
  const sa = SEVERITY[a.status === 'ok' && a.failing ? 'failing' : a.status]!;
  const sb = SEVERITY[b.status === 'ok' && b.failing ? 'failing' : b.status]!;
  return sa - sb || a.name.localeCompare(b.name);
}

export async function tenantRows(db: Db, config: Config, opts: { tenantId?: string } = {}, now = new Date()): Promise<TenantRow[]> {
  const where = opts.tenantId ? sql`where t.id = ${opts.tenantId}` : sql``;
  const res = await db.execute<Raw>(sql`
    select t.id, t.name, t.schema_name, s.tier_id as plan, ts.first_seen_at, t.created_at,
      newest.started_at as newest_at, newest.id as newest_id,
      last.status as last_status, last.error_message as last_error,
      stored.bytes as stored_bytes, stored.n as backup_count,
      (select json_agg(json_build_object('type', bs.schedule_type, 'paused', bs.is_paused, 'created_at', bs.created_at))
         from backup_schedules bs where bs.tenant_id = t.id and bs.is_active) as schedules
    from tenants t
    left join tenant_subscriptions s on s.tenant_id = t.id
    left join tenant_state ts on ts.tenant_id = t.id
    left join lateral (select b.id, b.started_at from backup_jobs b where b.tenant_id = t.id and b.status = 'completed'
                       order by b.started_at desc nulls last, b.id desc limit 1) newest on true
    left join lateral (select b.status, b.error_message from backup_jobs b where b.tenant_id = t.id and b.status in ('completed', 'failed')
                       order by b.created_at desc, b.seq desc limit 1) last on true
    left join lateral (select coalesce(sum(b.backup_size_bytes), 0)::bigint as bytes, count(*)::int as n from backup_jobs b
                       where b.tenant_id = t.id and b.status = 'completed') stored on true
    ${where}
    order by t.name, t.id`);
  return res.rows.map((r) => {
    const offset = tenantOffsetMinutes(r.id, config.STRATA_SCHEDULE_WINDOW_MINUTES);
    const rpo = overdueStatus({
      schedules: (r.schedules ?? []).map((s) => ({
        scheduleType: s.type,
        isPaused: s.paused,
        firstSlot: nextRunAt(s.type, offset, new Date(r.first_seen_at ?? s.created_at), config.STRATA_TIMEZONE),
      })),
      newestCompletedStartedAt: r.newest_at ? new Date(r.newest_at) : null,
      now,
      graceHours: config.STRATA_RPO_GRACE_HOURS,
    });
    return {
      id: r.id,
      name: r.name,
      schemaName: r.schema_name,
      plan: r.plan,
      newestBackupAt: r.newest_at ? new Date(r.newest_at) : null,
      newestBackupId: r.newest_id,
      lastOutcome: r.last_status === 'completed' || r.last_status === 'failed' ? r.last_status : null,
      lastError: r.last_error,
      status: rpo.status,
      deadline: rpo.deadline,
      failing: r.last_status === 'failed',
      storedBytes: Number(r.stored_bytes ?? 0),
      backupCount: Number(r.backup_count ?? 0),
    };
  });
}

export async function tenantById(db: Db, config: Config, tenantId: string): Promise<TenantRow | null> {
  return (await tenantRows(db, config, { tenantId }))[0] ?? null;
}

/** The platform row only (name, schema): what restore confirmation compares against. */
export async function platformTenant(db: Db, tenantId: string) {
  const res = await db.execute<{ id: string; name: string; schema_name: string; plan: string | null }>(sql`
    select t.id, t.name, t.schema_name, s.tier_id as plan from tenants t
    left join tenant_subscriptions s on s.tenant_id = t.id where t.id = ${tenantId}`);
  const r = res.rows[0];
  return r ? { id: r.id, name: r.name, schemaName: r.schema_name, plan: r.plan } : null;
}

export type TenantSort = 'name' | 'id' | 'plan' | 'newest' | 'status' | 'size';

export function sortTenants(rows: TenantRow[], sort: TenantSort, dir: 'asc' | 'desc'): TenantRow[] {
  const key: Record<TenantSort, (a: TenantRow, b: TenantRow) => number> = {
    name: (a, b) => a.name.localeCompare(b.name),
    id: (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    plan: (a, b) => (a.plan ?? '').localeCompare(b.plan ?? ''),
    newest: (a, b) => (a.newestBackupAt?.getTime() ?? 0) - (b.newestBackupAt?.getTime() ?? 0),
    status: compareUrgency,
    size: (a, b) => a.storedBytes - b.storedBytes,
  };
  const sorted = [...rows].sort((a, b) => key[sort](a, b) || a.id.localeCompare(b.id));
  return dir === 'desc' ? sorted.reverse() : sorted;
}

export function searchTenants(rows: TenantRow[], q: string): TenantRow[] {
  const needle = q.trim().toLowerCase();
  if (!needle) return rows;
  return rows.filter((r) => [r.id, r.name, r.schemaName, r.plan ?? ''].some((v) => v.toLowerCase().includes(needle)));
}
