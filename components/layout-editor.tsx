'use client';
// A plan's copy layout (preset): Preview runs the save as a dry run (the same changeLayout the CLI's
// `strata policy set --dry-run` runs) and shows schedules, stores, backup types, a month's cost and deletions;
// Save is enabled only after a preview of exactly this choice.
import { useState, useTransition } from 'react';
import type { ActionState } from '@/lib/api/action';
import type { LayoutChange } from '@/lib/api/operations/policy-layout';
import { formatDateTime } from './format';
import { buttonClass, inputClass } from './ui';

type Action = (prev: unknown, input: Record<string, unknown>) => Promise<ActionState>;
const PRESETS = [
  ['seed', 'Seed: dailies in S3 Standard, weeklies in Standard-IA, monthlies in B2'],
  ['cost-optimized', 'Cost-optimized: the newest daily in S3 Standard for a day, every retained copy in B2, dailies incremental'],
] as const;
const usd = (n: number) => `$${n.toFixed(2)}`;
const typesChanged = (c: LayoutChange) =>
  (Object.keys(c.backup_types.after) as (keyof LayoutChange['backup_types']['after'])[])
    .filter((o) => c.backup_types.before[o] !== c.backup_types.after[o])
    .map((o) => [o, c.backup_types.before[o], c.backup_types.after[o]] as const);

export function LayoutEditor({ plan, current, preview, save, timeZone }: { plan: string; current: string; preview: Action; save: Action; timeZone: string }) {
  const [layout, setLayout] = useState(current);
  const [previewed, setPreviewed] = useState<{ layout: string; data: LayoutChange } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [pending, start] = useTransition();
  const run = (action: Action, after: (r: ActionState) => void) =>
    start(async () => {
      setError(null);
      setMessage(null);
      const r = await action(null, { plan, layout });
      if (r.error) setError(r.error);
      else after(r);
    });
  const shown = previewed && previewed.layout === layout ? previewed.data : null;
  return (
    <div className="space-y-3 border-t border-slate-200 pt-3" data-testid={`layout-${plan}`}>
      <label htmlFor={`${plan}-layout`} className="block text-xs text-slate-500">
        Copy layout (preset)
      </label>
      <select id={`${plan}-layout`} className={inputClass} value={layout} onChange={(e) => setLayout(e.target.value)}>
        {PRESETS.map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
      <div className="flex flex-wrap gap-2">
        <button type="button" className={buttonClass.secondary} disabled={pending || layout === current} onClick={() => run(preview, (r) => setPreviewed({ layout, data: r.data as LayoutChange }))}>
          Preview layout
        </button>
        <button
          type="button"
          className={buttonClass.primary}
          disabled={pending || layout === current || !shown}
          onClick={() => run(save, (r) => (setMessage(r.message ?? 'Saved.'), setPreviewed(null)))}
          title={!shown ? 'Preview first' : undefined}
        >
          Save layout
        </button>
      </div>
      {shown ? (
        <div className="space-y-2 rounded-md border border-slate-200 bg-slate-50 p-3 text-sm" role="status">
          <p>
            {shown.from} → {shown.to} for {shown.tenants} tenant{shown.tenants === 1 ? '' : 's'}. Applies to new backups; existing copies keep their stores and expiries.
          </p>
          <ul className="list-disc pl-5 text-xs text-slate-600">
            {shown.schedules.map((s) => (
              <li key={s.schedule_type}>
                {s.schedule_type}: {s.before.join(' + ') || 'none'} → {s.after.join(' + ') || 'none'}
              </li>
            ))}
          </ul>
          {typesChanged(shown).length ? (
            <p className="text-xs text-slate-600">
              Backup types: {typesChanged(shown).map(([o, before, after]) => `${o} ${before} → ${after}`).join('; ')}.
            </p>
          ) : null}
          <p>
            Stores: {shown.stores.before.join(', ') || 'none'} → {shown.stores.after.join(', ') || 'none'}. A month at steady state: {usd(shown.monthly_cost.before_dollars)} →{' '}
            <strong>{usd(shown.monthly_cost.after_dollars)}</strong> (all S3 Standard: {usd(shown.monthly_cost.all_standard_dollars)}
            {Object.values(shown.backup_types.after).includes('incremental') || Object.values(shown.backup_types.before).includes('incremental')
              ? `; incremental backups priced at ${shown.monthly_cost.daily_change_percent}% of the data changing a day`
              : ''}
            ).
          </p>
          <p className="text-xs text-slate-600">
            New backups are deleted: {shown.new_backups_deleted.map((d) => `${d.origin} ${d.storage_tier} ${d.after}`).join('; ') || 'none scheduled'}.
          </p>
          {shown.existing_copies.length ? (
            <p className="text-xs text-slate-600">
              Existing copies:{' '}
              {shown.existing_copies.map((e) => `${e.copies} in ${e.storage_tier} (last deleted after ${e.last_expires_at ? formatDateTime(e.last_expires_at, timeZone) : 'never'})`).join('; ')}.
            </p>
          ) : null}
        </div>
      ) : null}
      {error ? (
        <p role="alert" className="text-sm text-red-600">
          {error}
        </p>
      ) : null}
      {message ? (
        <p role="status" className="text-sm text-emerald-700">
          {message}
        </p>
      ) : null}
    </div>
  );
}
