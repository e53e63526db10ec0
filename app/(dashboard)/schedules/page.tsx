import type { Metadata } from 'next';
import { appConfig, appDb } from '@/lib/db/queries/connection';
import { allSchedules } from '@/lib/views/schedules';
import { sortTenants } from '@/lib/views/tenants';
import { tenantProtection, tierLabel } from '@/lib/tenants/protection';
import { SCHEDULE_TYPES } from '@/lib/domain';
import { EmptyState, PageHeader, StatusBadge, Table, TenantCell, Td, Th } from '@/components/ui';
import { formatDateTime, STORAGE_TIER_LABELS } from '@/components/format';

export const metadata: Metadata = { title: 'Schedules' };
export const dynamic = 'force-dynamic';

export default async function SchedulesPage() {
  const db = appDb();
  const config = appConfig();
  const tz = config.STRATA_TIMEZONE;
  const [protection, schedules] = await Promise.all([tenantProtection(db, config), allSchedules(db)]);
  const tenants = sortTenants(protection, 'name', 'asc');
  const byTenant = new Map<string, Map<string, (typeof schedules)[number]>>();
  for (const s of schedules) {
    if (!s.isActive) continue;
    if (!byTenant.has(s.tenantId)) byTenant.set(s.tenantId, new Map());
    byTenant.get(s.tenantId)!.set(s.scheduleType, s);
  }
  const paused = schedules.filter((s) => s.isActive && s.isPaused).length;
  return (
    <>
      <PageHeader title="Schedules" subtitle={`Next runs in ${tz} · ${paused} paused`} />
      {tenants.length === 0 ? (
        <EmptyState title="No tenants yet" />
      ) : (
        <Table label="Schedules by tenant">
          <thead>
            <tr>
              <Th>Tenant</Th>
              <Th>Plan</Th>
              {SCHEDULE_TYPES.map((t) => (
                <Th key={t}>{t}</Th>
              ))}
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {tenants.map((t) => (
              <tr key={t.id}>
                <Td>
                  <TenantCell id={t.id} name={t.name} />
                </Td>
                <Td>{t.plan_known ? (t.tier ?? '—') : tierLabel(t)}</Td>
                {SCHEDULE_TYPES.map((type) => {
                  const s = byTenant.get(t.id)?.get(type);
                  return (
                    <Td key={type}>
                      {s ? (
                        <div className={s.isPaused ? 'opacity-70' : ''}>
                          <div className="whitespace-nowrap">{formatDateTime(s.nextRunAt, tz)}</div>
                          <div className="flex items-center gap-1 text-xs text-slate-500">
                            {STORAGE_TIER_LABELS[s.storageTier] ?? s.storageTier}
                            {s.isPaused ? <StatusBadge status="paused" /> : null}
                          </div>
                        </div>
                      ) : (
                        <span className="text-slate-400">—</span>
                      )}
                    </Td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </>
  );
}
