// Overdue tenants (docs/design.md "Schedules", Overdue) become incidents: one webhook when a tenant
// turns overdue, closed once a backup brings it back within its RPO (or it is paused or removed).
import { sql } from 'drizzle-orm';
import { platformTenantsSql } from '../db/platform.ts';
import { pgTime, pgTimeOrNull } from '../jobs/pg-time.ts';
import { isoUtc } from '../iso.ts';
import type { ScheduleType } from '../domain.ts';
import type { Config } from '../env.ts';
import { nextRunAt } from '../schedule/next-run.ts';
import { tenantOffsetMinutes } from '../schedule/offset.ts';
import { overdueStatus, type RpoResult } from '../schedule/rpo.ts';
import { closeIncident, openIncident, openSubjects, type NotifyContext } from './incidents.ts';

interface Row extends Record<string, unknown> {
  tenant_id: string;
  schedule_type: ScheduleType;
  is_paused: boolean;
  created_at: string;
  newest: string | null;
  now: string;
}

export async function tenantRpoStatuses(ctx: NotifyContext & { config: Config }): Promise<Map<string, RpoResult>> {
  const { config } = ctx;
  const res = await ctx.db.execute<Row>(sql`
    select s.tenant_id, s.schedule_type, s.is_paused, s.created_at, n.newest, now() as now
    from backup_schedules s
    join ${platformTenantsSql} t on t.id = s.tenant_id
    left join lateral (
      select max(started_at) as newest from backup_jobs b where b.tenant_id = s.tenant_id and b.status = 'completed'
    ) n on true
    where s.is_active`);
  const byTenant = new Map<string, Row[]>();
  for (const r of res.rows) byTenant.set(r.tenant_id, [...(byTenant.get(r.tenant_id) ?? []), r]);
  const out = new Map<string, RpoResult>();
  for (const [tenantId, rows] of byTenant) {
    const offset = tenantOffsetMinutes(tenantId, config.STRATA_SCHEDULE_WINDOW_MINUTES);
    out.set(
      tenantId,
      overdueStatus({
        schedules: rows.map((r) => ({
          scheduleType: r.schedule_type,
          isPaused: r.is_paused,
          firstSlot: nextRunAt(r.schedule_type, offset, pgTime(r.created_at), config.STRATA_TIMEZONE),
        })),
        newestCompletedStartedAt: pgTimeOrNull(rows[0]!.newest),
        now: pgTime(rows[0]!.now),
        graceHours: config.STRATA_RPO_GRACE_HOURS,
      }),
    );
  }
  return out;
}

/** Opens an incident for each newly overdue tenant, closes those no longer overdue. */
export async function checkOverdue(ctx: NotifyContext & { config: Config }): Promise<{ opened: string[]; closed: string[] }> {
  const statuses = await tenantRpoStatuses(ctx);
  const opened: string[] = [];
  const closed: string[] = [];
  for (const [tenantId, s] of statuses) {
    if (s.status !== 'overdue') continue;
    const text = `tenant ${tenantId} is overdue: no completed backup within its ${s.scheduleType} RPO (+ ${ctx.config.STRATA_RPO_GRACE_HOURS} h grace); deadline was ${s.deadline ? isoUtc(s.deadline) : "unknown"}`;
    if (await openIncident(ctx, 'overdue', tenantId, text)) opened.push(tenantId);
  }
  for (const tenantId of await openSubjects(ctx.db, 'overdue')) {
    if (statuses.get(tenantId)?.status !== 'overdue' && (await closeIncident(ctx, 'overdue', tenantId))) closed.push(tenantId);
  }
  return { opened, closed };
}
