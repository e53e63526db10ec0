'use client';
// Edit one plan's retention: Preview is the save run as a dry run (updatePolicy, rolled back) and shows
// what the next prune would delete under the new windows; Save is enabled only after a preview of
// exactly these values.
import { useState, useTransition } from 'react';
import type { ActionState } from '@/lib/api/action';
import { formatDateTime } from './format';
import { buttonClass, inputClass } from './ui';

type Action = (prev: unknown, input: Record<string, unknown>) => Promise<ActionState>;
interface Preview {
  considered: number;
  changed: number;
  wouldDelete: number;
  newlyDeleted: number;
  sample: { id: string; tenantId: string; origin: string; startedAt: string | null }[];
}

export function PolicyEditor({
  plan,
  initial,
  preview,
  save,
  timeZone,
}: {
  plan: string;
  initial: { dailyRetentionDays: number; weeklyRetentionWeeks: number; monthlyRetentionMonths: number };
  preview: Action;
  save: Action;
  timeZone: string;
}) {
  const [values, setValues] = useState(initial);
  const [previewed, setPreviewed] = useState<{ key: string; data: Preview } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [pending, start] = useTransition();
  const key = JSON.stringify(values);
  const unchanged = key === JSON.stringify(initial);
  const fields: [keyof typeof values, string][] = [
    ['dailyRetentionDays', 'Daily (days)'],
    ['weeklyRetentionWeeks', 'Weekly (weeks)'],
    ['monthlyRetentionMonths', 'Monthly (months)'],
  ];
  const run = (action: Action, after: (r: ActionState) => void) =>
    start(async () => {
      setError(null);
      setMessage(null);
      const r = await action(null, { plan, ...values });
      if (r.error) setError(Object.values(r.fieldErrors ?? {})[0] ? `${r.error} ${Object.entries(r.fieldErrors!).map(([k, v]) => `${k}: ${v}`).join('; ')}` : r.error);
      else after(r);
    });
  return (
    <div className="space-y-3" data-testid={`policy-${plan}`}>
      <div className="grid grid-cols-3 gap-2">
        {fields.map(([name, label]) => (
          <div key={name}>
            <label htmlFor={`${plan}-${name}`} className="block text-xs text-slate-500">
              {label}
            </label>
            <input
              id={`${plan}-${name}`}
              type="number"
              min={0}
              inputMode="numeric"
              value={values[name]}
              onChange={(e) => setValues((v) => ({ ...v, [name]: e.target.value === '' ? 0 : Number(e.target.value) }))}
              className={inputClass}
            />
          </div>
        ))}
      </div>
      <div className="flex flex-wrap gap-2">
        <button type="button" className={buttonClass.secondary} disabled={pending || unchanged} onClick={() => run(preview, (r) => setPreviewed({ key, data: r.data as Preview }))}>
          Preview change
        </button>
        <button
          type="button"
          className={buttonClass.primary}
          disabled={pending || unchanged || previewed?.key !== key}
          onClick={() => run(save, (r) => (setMessage(r.message ?? 'Saved.'), setPreviewed(null)))}
          title={previewed?.key !== key ? 'Preview first' : undefined}
        >
          Save
        </button>
      </div>
      {previewed && previewed.key === key ? (
        <div className="rounded-md border border-slate-200 bg-slate-50 p-3 text-sm" role="status">
          <p>
            {previewed.data.changed} of {previewed.data.considered} completed backups of this plan get a new expiry. The next prune would delete{' '}
            <strong>{previewed.data.newlyDeleted}</strong> because of this change ({previewed.data.wouldDelete} in all, with backups that have expired already). Legal holds and each tenant’s newest backup are kept.
          </p>
          {previewed.data.sample.length ? (
            <ul className="mt-2 list-disc pl-5 text-xs text-slate-600">
              {previewed.data.sample.map((s) => (
                <li key={s.id}>
                  {s.tenantId} · {s.origin} · {formatDateTime(s.startedAt, timeZone)}
                </li>
              ))}
              {previewed.data.wouldDelete > previewed.data.sample.length ? <li>… and {previewed.data.wouldDelete - previewed.data.sample.length} more</li> : null}
            </ul>
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
