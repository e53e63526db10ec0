import type { Metadata } from 'next';
import { appConfig, appDb } from '@/lib/db/queries/connection';
import { listPolicies } from '@/lib/db/queries/policies';
import { currentActor } from '@/lib/auth/session';
import { schedulesForPolicy } from '@/lib/schedule/policy';
import { Card, EmptyState, PageHeader } from '@/components/ui';
import { formatDateTime, STORAGE_TIER_LABELS } from '@/components/format';
import { PolicyEditor } from '@/components/policy-editor';
import { LayoutEditor } from '@/components/layout-editor';
import { BackupTypeEditor } from '@/components/backup-type-editor';
import { backupTypesByOrigin } from '@/lib/retention/policies';
import { copiesFor, keepText } from '@/lib/retention/layouts';
import { previewLayoutAction, previewPolicyAction, saveBackupTypesAction, saveLayoutAction, savePolicyAction } from './actions';

export const metadata: Metadata = { title: 'Retention policies' };
export const dynamic = 'force-dynamic';

export default async function PoliciesPage() {
  const config = appConfig();
  const tz = config.STRATA_TIMEZONE;
  const [policies, actor] = await Promise.all([listPolicies(appDb()), currentActor()]);
  const isAdmin = actor?.role === 'admin';
  return (
    <>
      <PageHeader
        title="Retention policies"
        subtitle={`How long each plan’s scheduled backups are kept. Manual backups: ${config.STRATA_MANUAL_RETENTION_DAYS} days (STRATA_MANUAL_RETENTION_DAYS).`}
      />
      {policies.length === 0 ? (
        <EmptyState title="No policies">Run strata migrate to seed them.</EmptyState>
      ) : (
        <div className="grid grid-cols-1 gap-6 lg:grid-cols-3">
          {policies.map((p) => {
            const schedules = schedulesForPolicy(p);
            return (
              <Card key={p.tierId} title={<span className="capitalize">{p.tierId}</span>}>
                <dl className="mb-3 grid grid-cols-2 gap-y-1 text-sm">
                  <dt className="text-slate-500">Daily</dt>
                  <dd>{p.dailyRetentionDays} days</dd>
                  <dt className="text-slate-500">Weekly</dt>
                  <dd>{p.weeklyRetentionWeeks} weeks</dd>
                  <dt className="text-slate-500">Monthly</dt>
                  <dd>{p.monthlyRetentionMonths} months</dd>
                  <dt className="text-slate-500">Layout</dt>
                  <dd>{p.layout}</dd>
                  <dt className="text-slate-500">Backup type</dt>
                  <dd data-testid={`backup-types-shown-${p.tierId}`}>
                    {schedules.length ? schedules.map((s) => `${s.scheduleType} ${backupTypesByOrigin(p.incrementalOrigins)[s.scheduleType]}`).join(', ') : '—'}
                  </dd>
                  <dt className="text-slate-500">Copies</dt>
                  <dd>
                    {schedules.length
                      ? schedules.map((s) => (
                          <div key={s.scheduleType}>
                            {s.scheduleType} → {copiesFor(p.layout, p)[s.scheduleType].map((c) => `${STORAGE_TIER_LABELS[c.storage_tier]} ${keepText(c.keep)}`).join(' + ')}
                          </div>
                        ))
                      : 'none (not protected by plan)'}
                  </dd>
                  <dt className="text-slate-500">Updated</dt>
                  <dd>{formatDateTime(p.updatedAt, tz)}</dd>
                </dl>
                {isAdmin ? (
                  <PolicyEditor
                    plan={p.tierId}
                    initial={{ dailyRetentionDays: p.dailyRetentionDays, weeklyRetentionWeeks: p.weeklyRetentionWeeks, monthlyRetentionMonths: p.monthlyRetentionMonths }}
                    preview={previewPolicyAction}
                    save={savePolicyAction}
                    timeZone={tz}
                  />
                ) : null}
                {isAdmin ? <LayoutEditor plan={p.tierId} current={p.layout} preview={previewLayoutAction} save={saveLayoutAction} timeZone={tz} /> : null}
                {isAdmin && schedules.length ? (
                  <BackupTypeEditor
                    plan={p.tierId}
                    current={backupTypesByOrigin(p.incrementalOrigins)}
                    origins={schedules.map((s) => s.scheduleType)}
                    save={saveBackupTypesAction}
                  />
                ) : null}
              </Card>
            );
          })}
        </div>
      )}
    </>
  );
}
