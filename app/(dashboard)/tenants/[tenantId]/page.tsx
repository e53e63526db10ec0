import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { appConfig, appDb } from '@/lib/db/queries/connection';
import { platformTenants, removedTenants, tenantById } from '@/lib/views/tenants';
import { tierLabel } from '@/lib/tenants/protection';
import { backupHistory, tenantBackupCounts } from '@/lib/db/queries/backups';
import { tenantSchedules, upcomingRuns } from '@/lib/views/schedules';
import { backupPoints } from '@/lib/views/points';
import { tenantVerifications } from '@/lib/db/queries/verifications';
import { tenantRestores, undoable } from '@/lib/db/queries/restores';
import { currentActor } from '@/lib/auth/session';
import { roleAtLeast } from '@/lib/auth/roles';
import { FILES_OFF_MESSAGE, filesEnabled } from '@/lib/files/source';
import { BACKUP_STATUSES, ORIGINS, STORAGE_TIERS, TENANT_ID_RE } from '@/lib/domain';
import { Badge, buttonClass, Card, EmptyState, PageHeader, Pager, StatusBadge, Table, Td, Th } from '@/components/ui';
import { formatBytes, formatDateTime, formatDuration, STORAGE_TIER_LABELS, STORAGE_TIER_SHORT } from '@/components/format';
import { LiveJobs } from '@/components/live-jobs';
import { BackupNow } from '@/components/backup-now';
import { ActionButton } from '@/components/action-button';
import { RestoreButton } from '@/components/restore-dialog';
import { RemoveTenantButton } from '@/components/remove-tenant';
import { filesSummary } from '@/components/files-progress';
import { backupNowAction, holdAction, removeTenantAction, restoreAction, scheduleAction, undoAction, verifyAction } from './actions';

export const dynamic = 'force-dynamic';

type Props = { params: Promise<{ tenantId: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: decodeURIComponent((await params).tenantId) };
}

const pick = (v: unknown, allowed: readonly string[]) => (typeof v === 'string' && allowed.includes(v) ? v : undefined);

export default async function TenantPage({ params, searchParams }: Props) {
  const tenantId = decodeURIComponent((await params).tenantId);
  if (!TENANT_ID_RE.test(tenantId)) notFound();
  const sp = await searchParams;
  const db = appDb();
  const config = appConfig();
  const tz = config.STRATA_TIMEZONE;
  const actor = (await currentActor())!;
  const isOperator = roleAtLeast(actor.role, 'operator');
  const isAdmin = roleAtLeast(actor.role, 'admin');
  // Tenant files (design.md "Tenant files"): off without STRATA_FILES_BUCKET; the page says so.
  const filesOff = filesEnabled(config) ? null : FILES_OFF_MESSAGE;
  const filters = { status: pick(sp.status, BACKUP_STATUSES), storageTier: pick(sp.storage, STORAGE_TIERS), origin: pick(sp.origin, ORIGINS) };
  const page = Math.max(1, Math.min(10_000, Number(sp.page) || 1));
  // Every query at once: the page's server time is the slowest one, not their sum.
  const [protection, history, schedules, verifications, restores, others, counts] = await Promise.all([
    tenantById(db, config, tenantId),
    backupHistory(db, tenantId, filters, page),
    tenantSchedules(db, tenantId),
    tenantVerifications(db, tenantId),
    tenantRestores(db, tenantId, 10),
    isAdmin ? platformTenants(db) : Promise.resolve([]),
    isAdmin ? tenantBackupCounts(db, tenantId) : Promise.resolve({ completed: 0, held: 0 }),
  ]);
  // A removed tenant keeps its page: its backups stay listed until they expire by policy.
  const removed = protection ? null : ((await removedTenants(db, tenantId))[0] ?? null);
  if (!protection && !removed) notFound();
  const tenant = protection
    ? { id: protection.id, name: protection.name, schemaName: protection.schema_name, plan: protection.tier, planText: protection.plan_known ? protection.tier : tierLabel(protection) }
    : { id: tenantId, name: removed?.name ?? tenantId, schemaName: removed?.schemaName ?? '—', plan: removed?.plan ?? null, planText: removed?.plan ?? null };
  const canUndo = undoable(restores[0]);
  const pages = Math.max(1, Math.ceil(history.total / history.pageSize));
  const qs = (over: Record<string, string | undefined>) => {
    const p = new URLSearchParams();
    const merged = { status: filters.status, storage: filters.storageTier, origin: filters.origin, page: String(page), ...over };
    for (const [k, v] of Object.entries(merged)) if (v && !(k === 'page' && v === '1')) p.set(k, v);
    const s = p.toString();
    return s ? `?${s}` : '?';
  };
  // Cross-tenant restore targets: only for a tenant still on the platform.
  const otherTenants = protection ? others.filter((t) => t.id !== tenantId) : [];
  const now = new Date();

  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm text-slate-500">
        <Link href="/tenants" className="hover:underline">
          Tenants
        </Link>{' '}
        / {tenant.id}
      </nav>
      <PageHeader
        title={tenant.name}
        subtitle={
          <span className="flex flex-wrap items-center gap-2">
            <span>
              id <code>{tenant.id}</code> · schema <code>{tenant.schemaName}</code> · plan {tenant.planText ?? '—'}
            </span>
            {protection ? <StatusBadge status={protection.status} /> : <Badge>removed</Badge>}
            {protection?.failing ? <StatusBadge status="failing" title={protection.last_error ?? undefined} /> : null}
          </span>
        }
        actions={
          <>
            {isOperator && protection ? <BackupNow action={backupNowAction} tenantId={tenant.id} filesOff={filesOff} /> : null}
            {isAdmin && (protection || counts.completed > 0) ? (
              <RemoveTenantButton
                action={removeTenantAction}
                tenant={{ id: tenant.id, name: tenant.name }}
                backupCount={counts.completed}
                heldCount={counts.held}
                removed={!protection}
              />
            ) : null}
          </>
        }
      />
      {filesOff ? (
        <p className="mb-6 rounded-md border border-slate-200 bg-slate-50 px-3 py-2 text-sm text-slate-600" data-testid="tenant-files-off">
          Tenant files are off: STRATA_FILES_BUCKET is not set, so backups hold the database only and files can be neither backed up nor restored.
        </p>
      ) : null}
      {removed ? (
        <p className="mb-6 rounded-md border border-slate-200 bg-slate-50 px-3 py-2 text-sm text-slate-700" data-testid="tenant-removed">
          Removed from the platform on {formatDateTime(removed.removedAt, tz)}. No new backups are taken; the ones below stay listed until they
          expire by policy (with no newest-backup floor).
        </p>
      ) : null}

      <div className="mb-6 grid gap-6 lg:grid-cols-2">
        <Card title="Running now">
          <LiveJobs tenantId={tenant.id} showTenant={false} />
        </Card>
        <Card title="Restores">
          {restores.length === 0 ? (
            <p className="text-sm text-slate-500">This tenant has never been restored.</p>
          ) : (
            <ul className="divide-y divide-slate-100 text-sm" data-testid="restores">
              {restores.slice(0, 5).map((r) => (
                <li key={r.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
                  <div className="min-w-0">
                    <div>
                      {r.undoes ? 'Undo' : r.mode === 'clone' ? `Clone into ${r.targetSchema}` : 'In place'} · {formatDateTime(r.createdAt, tz)}
                    </div>
                    <div className="text-xs text-slate-500">
                      by {r.requestedBy}
                      {r.movedAsideSchema ? ` · previous data in ${r.movedAsideSchema}` : ''}
                      {r.errorMessage ? ` · ${r.errorMessage}` : ''}
                    </div>
                    {r.restoreFiles ? (
                      <div className={`text-xs ${r.filesStatus === 'failed' ? 'text-red-600' : 'text-slate-500'}`} data-testid={`restore-files-${r.id}`}>
                        {r.filesOnly ? 'files only' : 'with files'}
                        {r.filesPrefix ? ` → ${r.filesPrefix}` : ''}
                        {r.deleteExtra ? ' · deleting objects not in the backup' : ''} · files {r.filesStatus ?? 'pending'}
                        {r.filesError ? `: ${r.filesError}` : ''}
                      </div>
                    ) : null}
                  </div>
                  <div className="flex items-center gap-2">
                    <StatusBadge status={r.status} />
                    {isAdmin && canUndo?.id === r.id ? (
                      <ActionButton action={undoAction} fields={{ tenantId: tenant.id, restoreId: r.id }} label="Undo" variant="secondary" testId="undo-restore" />
                    ) : null}
                  </div>
                </li>
              ))}
            </ul>
          )}
          {canUndo?.undoExpiresAt ? (
            <p className="mt-2 text-xs text-slate-500">The moved-aside copy is kept until {formatDateTime(canUndo.undoExpiresAt, tz)}.</p>
          ) : null}
        </Card>
      </div>

      <section className="mb-6" aria-labelledby="history-heading">
        <div className="mb-2 flex flex-wrap items-end justify-between gap-2">
          <h2 id="history-heading" className="text-sm font-semibold text-slate-800">
            Backup history <span className="font-normal text-slate-500">({history.total} · times in {tz})</span>
          </h2>
          <form method="get" className="flex flex-wrap items-end gap-2 text-sm">
            <FilterSelect name="status" label="Status" value={filters.status} options={BACKUP_STATUSES} />
            <FilterSelect name="storage" label="Storage tier" value={filters.storageTier} options={STORAGE_TIERS} />
            <FilterSelect name="origin" label="Origin" value={filters.origin} options={ORIGINS} />
            <button type="submit" className={buttonClass.secondary}>
              Filter
            </button>
          </form>
        </div>
        {history.rows.length === 0 ? (
          <EmptyState title="No backups match">{history.total === 0 && !filters.status ? 'Use “Back up now” to take the first one.' : null}</EmptyState>
        ) : (
          <Table label="Backup history">
            <thead>
              <tr>
                <Th>Started</Th>
                <Th>Status</Th>
                <Th>Origin / storage</Th>
                <Th>Size</Th>
                <Th className="hidden xl:table-cell">Location / checksum</Th>
                <Th>Expires</Th>
                <Th>Legal hold</Th>
                <Th>
                  <span className="sr-only">Actions</span>
                </Th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {/* One row per backup point: its copies (one dump in several storage tiers) are listed inside it. */}
              {backupPoints(history.rows).map((copies) => {
                const b = copies[0]!;
                const several = copies.length > 1;
                const tierOf = (c: typeof b) => STORAGE_TIER_LABELS[c.storageTier] ?? c.storageTier;
                const shortTierOf = (c: typeof b) => STORAGE_TIER_SHORT[c.storageTier] ?? c.storageTier;
                /** One line per copy when the point has several (labelled with its storage tier). */
                const perCopy = (render: (c: typeof b) => React.ReactNode) =>
                  several
                    ? copies.map((c) => (
                        <div key={c.id} className="whitespace-nowrap" data-testid={`backup-copy-${c.id}`}>
                          <span className="text-xs text-slate-500" title={tierOf(c)}>
                            {shortTierOf(c)}{' '}
                          </span>
                          {render(c)}
                        </div>
                      ))
                    : render(b);
                // Verify and Restore name a completed copy; both read the cheapest copy of the point to read.
                const readable = copies.find((c) => c.status === 'completed');
                return (
                  <tr key={b.id} data-testid={`backup-row-${b.id}`} data-backup-point={b.dumpGroup}>
                    <Td>
                      <div className="whitespace-nowrap">{formatDateTime(b.startedAt ?? b.createdAt, tz, { zone: false })}</div>
                      <div className="text-xs text-slate-500">
                        {b.startedAt && b.completedAt ? `took ${formatDuration(b.completedAt.getTime() - b.startedAt.getTime())} · ` : ''}by {b.requestedBy}
                      </div>
                    </Td>
                    <Td>
                      {perCopy((c) => (
                        <>
                          <StatusBadge status={c.status} title={c.errorMessage ?? undefined} />
                          {c.status === 'completed' && c.signed !== true ? (
                            <span className="ml-1">
                              <Badge tone="amber" title="The manifest is not signed: restoring it needs an admin's explicit confirmation">
                                unsigned
                              </Badge>
                            </span>
                          ) : null}
                        </>
                      ))}
                      {copies.map((c) =>
                        c.status === 'failed' && c.errorMessage ? (
                          <div key={c.id} className="mt-1 max-w-xs text-xs text-red-600">
                            {c.errorMessage}
                          </div>
                        ) : null,
                      )}
                    </Td>
                    <Td>
                      <div>
                        {b.origin} <span className="text-xs text-slate-500" data-testid={`backup-type-${b.id}`}>· {b.backupType}</span>
                      </div>
                      {several ? (
                        <div className="text-xs text-slate-500" data-testid={`backup-point-${b.dumpGroup}`}>
                          backup point · {copies.length} copies: {copies.map(tierOf).join(' + ')}
                        </div>
                      ) : (
                        <div className="text-xs text-slate-500">{tierOf(b)}</div>
                      )}
                    </Td>
                    <Td className="whitespace-nowrap tabular-nums">
                      <div>{formatBytes(b.backupSizeBytes)}</div>
                      <div className="text-xs text-slate-500">dump {formatBytes(b.dumpSizeBytes)}</div>
                      {/* An incremental copy stores only the chunks its tier lacked: what it added. */}
                      {b.backupType === 'incremental' && b.status === 'completed'
                        ? perCopy((c) => <span className="text-xs text-slate-500">+{formatBytes(c.addedBytes)} added</span>)
                        : null}
                      {b.includeFiles ? (
                        <div className="text-xs text-slate-500" data-testid={`backup-files-${b.id}`} title="The tenant’s files in this backup point: objects (total size)">
                          {filesSummary(b.filesCount, b.filesBytes)}
                        </div>
                      ) : null}
                    </Td>
                    <Td className="hidden max-w-[8rem] xl:table-cell">
                      {copies.map((c) => (
                        <div key={c.id} className="truncate font-mono text-xs" title={c.backupLocation ?? undefined}>
                          {c.backupLocation ?? '—'}
                        </div>
                      ))}
                      <div className="font-mono text-xs text-slate-500" title={b.sha256Stored ?? undefined}>
                        {b.sha256Stored ? `sha256 ${b.sha256Stored.slice(0, 12)}…` : ''}
                      </div>
                    </Td>
                    <Td>
                      {perCopy((c) =>
                        c.expiresAt ? (
                          <span className={c.expiresAt <= now ? 'text-amber-700' : ''}>{formatDateTime(c.expiresAt, tz, { zone: false })}</span>
                        ) : c.status === 'completed' ? (
                          'never'
                        ) : (
                          '—'
                        ),
                      )}
                    </Td>
                    <Td>
                      {perCopy((c) =>
                        isAdmin && c.status === 'completed' ? (
                          <ActionButton
                            action={holdAction}
                            fields={{ tenantId: tenant.id, backupId: c.id, on: String(!c.legalHold) }}
                            label={c.legalHold ? 'On · lift' : 'Place hold'}
                            ariaLabel={`${c.legalHold ? 'Lift legal hold' : 'Place legal hold'}${several ? ` (${tierOf(c)} copy)` : ''}`}
                          />
                        ) : c.legalHold ? (
                          <Badge tone="violet">on hold</Badge>
                        ) : (
                          <span className="text-slate-400">—</span>
                        ),
                      )}
                    </Td>
                    <Td>
                      <div className="flex flex-col items-start gap-1">
                        {isOperator && readable ? <ActionButton action={verifyAction} fields={{ tenantId: tenant.id, backupId: readable.id }} label="Verify" /> : null}
                        {isAdmin && protection && readable ? (
                          <RestoreButton
                            action={restoreAction}
                            tenant={{ id: tenant.id, name: tenant.name, schemaName: tenant.schemaName }}
                            backup={{
                              id: readable.id,
                              startedAt: readable.startedAt?.toISOString() ?? null,
                              backupSizeBytes: readable.backupSizeBytes,
                              dumpSizeBytes: readable.dumpSizeBytes,
                              storageTier: readable.storageTier,
                              origin: readable.origin,
                              signed: readable.signed,
                              includeFiles: readable.includeFiles,
                              filesCount: readable.filesCount,
                              filesBytes: readable.filesBytes,
                              filesPrefix: readable.filesPrefix,
                            }}
                            otherTenants={otherTenants}
                            undoDays={config.STRATA_UNDO_RETENTION_DAYS}
                            timeZone={tz}
                            filesOff={filesOff}
                          />
                        ) : null}
                      </div>
                    </Td>
                  </tr>
                );
              })}
            </tbody>
          </Table>
        )}
        <Pager label="Backup history pages" page={page} pages={pages} href={(p) => qs({ page: String(p) })} />
      </section>

      <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
        <Card title={`Schedule (times in ${tz})`}>
          {schedules.filter((s) => s.isActive).length === 0 ? (
            <p className="text-sm text-slate-500">{removed
                ? 'None: a removed tenant has no schedules.'
                : tenant.plan === 'basic'
                  ? 'Not protected by plan: the basic plan has no scheduled backups.'
                  : 'No schedules yet.'}</p>
          ) : (
            <ul className="divide-y divide-slate-100 text-sm">
              {schedules
                .filter((s) => s.isActive)
                .map((s) => (
                  <li key={s.id} className="flex flex-wrap items-start justify-between gap-2 py-2" data-testid={`schedule-${s.scheduleType}`}>
                    <div>
                      <div className="flex items-center gap-2 font-medium text-slate-800">
                        {s.scheduleType} → {STORAGE_TIER_LABELS[s.storageTier] ?? s.storageTier}
                        {s.isPaused ? <StatusBadge status="paused" /> : null}
                      </div>
                      <div className="text-xs text-slate-500">
                        next {upcomingRuns(s, 3, config.STRATA_SCHEDULE_WINDOW_MINUTES, tz).map((d) => formatDateTime(d, tz)).join(' · ')}
                      </div>
                      <div className="text-xs text-slate-500">last run {formatDateTime(s.lastRunAt, tz)}</div>
                    </div>
                    {isAdmin ? (
                      <ActionButton
                        action={scheduleAction}
                        fields={{ tenantId: tenant.id, scheduleType: s.scheduleType, paused: String(!s.isPaused) }}
                        label={s.isPaused ? 'Resume' : 'Pause'}
                        ariaLabel={`${s.isPaused ? 'Resume' : 'Pause'} ${s.scheduleType} schedule`}
                      />
                    ) : null}
                  </li>
                ))}
            </ul>
          )}
        </Card>
        <Card title="Verifications">
          {verifications.length === 0 ? (
            <p className="text-sm text-slate-500">No backup of this tenant has been verified yet.</p>
          ) : (
            <ul className="divide-y divide-slate-100 text-sm">
              {verifications.map((v) => (
                <li key={v.id} className="flex items-start justify-between gap-2 py-2">
                  <div>
                    <div>
                      {formatDateTime(v.completedAt ?? v.createdAt, tz)} {v.isDrill ? <Badge>drill</Badge> : null}
                    </div>
                    <div className="text-xs text-slate-500">
                      {v.tables !== null ? `${v.tables} tables · ${v.rows ?? 0} rows` : `backup ${v.backupId.slice(0, 8)}`}
                      {v.errorMessage ? ` · ${v.errorMessage}` : ''}
                    </div>
                  </div>
                  <StatusBadge status={v.status} />
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>
    </>
  );
}

function FilterSelect({ name, label, value, options }: { name: string; label: string; value?: string; options: readonly string[] }) {
  const id = `filter-${name}`;
  return (
    <div>
      <label htmlFor={id} className="block text-xs text-slate-500">
        {label}
      </label>
      <select id={id} name={name} defaultValue={value ?? ''} className="rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm">
        <option value="">all</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {STORAGE_TIER_LABELS[o] ?? o}
          </option>
        ))}
      </select>
    </div>
  );
}
