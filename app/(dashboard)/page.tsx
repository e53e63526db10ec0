import type { Metadata } from 'next';
import Link from 'next/link';
import { appConfig, appDb } from '@/lib/db/queries/connection';
import { compareUrgency, tenantRows } from '@/lib/db/queries/tenants';
import { storageByTier } from '@/lib/db/queries/backups';
import { currentMonthCost } from '@/lib/db/queries/cost';
import { workers } from '@/lib/db/queries/workers';
import { STORAGE_TIERS } from '@/lib/domain';
import { Card, EmptyState, PageHeader, Stat, StatusBadge, Table, Td, Th, Badge } from '@/components/ui';
import { formatAge, formatBytes, formatDateTime, formatDollars, STORAGE_TIER_LABELS } from '@/components/format';
import { LiveJobs } from '@/components/live-jobs';

export const metadata: Metadata = { title: 'Overview' };
export const dynamic = 'force-dynamic';

export default async function OverviewPage() {
  const db = appDb();
  const config = appConfig();
  const tz = config.STRATA_TIMEZONE;
  const now = new Date();
  const [tenants, storage, cost, workerRows] = await Promise.all([tenantRows(db, config, {}, now), storageByTier(db), currentMonthCost(db, now), workers(db, now)]);
  const sorted = [...tenants].sort(compareUrgency);
  const overdue = tenants.filter((t) => t.status === 'overdue').length;
  const failing = tenants.filter((t) => t.failing).length;
  const alive = workerRows.filter((w) => w.alive);
  const usage = new Map(storage.map((s) => [s.storageTier, s]));

  return (
    <>
      <PageHeader title="Overview" subtitle={`Times in ${tz}`} />
      <div className="mb-6 grid grid-cols-2 gap-3 lg:grid-cols-4">
        <Stat label="Tenants" value={tenants.length} hint={`${tenants.filter((t) => t.status === 'ok').length} protected`} />
        <Stat
          label="Need attention"
          value={<span className={overdue + failing ? 'text-red-600' : ''}>{overdue + failing}</span>}
          hint={`${overdue} overdue · ${failing} last backup failed`}
        />
        <Stat
          label="This month’s storage cost"
          value={formatDollars(cost.hybrid.total_dollars)}
          hint={`saves ${formatDollars(Math.max(0, cost.savings.dollars))} (${cost.savings.percent.toFixed(0)}%) vs all S3 Standard`}
        />
        <Stat
          label="Workers alive"
          value={<span className={alive.length ? '' : 'text-red-600'}>{alive.length}</span>}
          hint={alive.length ? alive.map((w) => w.host).join(', ') : 'no worker has reported in the last 90 s'}
        />
      </div>

      <div className="grid gap-6 xl:grid-cols-3">
        <div className="xl:col-span-2">
          <h2 className="mb-2 text-sm font-semibold text-slate-800">Protection by tenant</h2>
          {sorted.length === 0 ? (
            <EmptyState title="No tenants yet">Tenants appear here once they exist in the platform’s tenants table.</EmptyState>
          ) : (
            <Table label="Tenant protection">
              <thead>
                <tr>
                  <Th>Tenant</Th>
                  <Th>Plan</Th>
                  <Th>Status</Th>
                  <Th>Newest backup</Th>
                  <Th className="hidden md:table-cell">Overdue after</Th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {sorted.map((t) => (
                  <tr key={t.id} data-testid={`tenant-row-${t.id}`}>
                    <Td>
                      <Link href={`/tenants/${encodeURIComponent(t.id)}`} className="font-medium text-slate-900 hover:underline">
                        {t.name}
                      </Link>
                      <div className="text-xs text-slate-500">{t.id}</div>
                    </Td>
                    <Td>{t.plan ?? '—'}</Td>
                    <Td>
                      <div className="flex flex-wrap gap-1">
                        <StatusBadge status={t.status} />
                        {t.failing ? <StatusBadge status="failing" title={t.lastError ?? undefined} /> : null}
                      </div>
                    </Td>
                    <Td>
                      {t.newestBackupAt ? (
                        <>
                          <div>{formatAge(t.newestBackupAt, now)}</div>
                          <div className="text-xs text-slate-500">{formatDateTime(t.newestBackupAt, tz)}</div>
                        </>
                      ) : (
                        <span className="text-slate-500">none yet</span>
                      )}
                    </Td>
                    <Td className="hidden md:table-cell">{t.deadline ? formatDateTime(t.deadline, tz) : '—'}</Td>
                  </tr>
                ))}
              </tbody>
            </Table>
          )}
        </div>
        <div className="space-y-6">
          <Card title="Running now">
            <LiveJobs />
          </Card>
          <Card title="Storage by tier">
            <dl className="space-y-3 text-sm">
              {STORAGE_TIERS.map((tier) => {
                const u = usage.get(tier);
                const c = cost.hybrid.tiers[tier];
                return (
                  <div key={tier} className="flex items-start justify-between gap-2">
                    <dt>
                      <div className="font-medium text-slate-800">{STORAGE_TIER_LABELS[tier]}</div>
                      <div className="text-xs text-slate-500">
                        {u?.backups ?? 0} backups · {u?.objects ?? 0} objects
                      </div>
                    </dt>
                    <dd className="text-right tabular-nums">
                      <div>{formatBytes(u?.bytes ?? 0)}</div>
                      <div className="text-xs text-slate-500">{formatDollars(c.total_dollars)} this month</div>
                    </dd>
                  </div>
                );
              })}
            </dl>
            <p className="mt-3 border-t border-slate-100 pt-2 text-xs text-slate-500">
              All in S3 Standard would cost {formatDollars(cost.standard.total_dollars)}. List prices as of {cost.prices.as_of}.
            </p>
          </Card>
          <Card title="Workers">
            {workerRows.length === 0 ? (
              <p className="text-sm text-slate-500">No worker has ever started. Run <code>strata worker</code>.</p>
            ) : (
              <ul className="space-y-2 text-sm">
                {workerRows.slice(0, 8).map((w) => (
                  <li key={w.id} className="flex items-center justify-between gap-2">
                    <span className="truncate" title={w.id}>
                      {w.host} <span className="text-xs text-slate-500">v{w.version}</span>
                    </span>
                    <span className="flex items-center gap-2 text-xs text-slate-500">
                      {w.alive ? `${w.runningJobs} running` : formatAge(w.lastSeenAt, now)}
                      <Badge tone={w.alive ? 'green' : 'gray'}>{w.alive ? 'alive' : w.stoppedAt ? 'stopped' : 'silent'}</Badge>
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </Card>
        </div>
      </div>
    </>
  );
}
