'use client';
// Which of a plan's scheduled origins back up incrementally (design.md "Incremental backups"): the same
// changeBackupTypes `strata policy set --incremental` runs. Saving asks for a confirmation that says
// what changes; it applies to backups queued from now on.
import { useState, useTransition } from 'react';
import type { ActionState } from '@/lib/api/action';
import { buttonClass, inputClass } from './ui';

type Action = (prev: unknown, input: Record<string, unknown>) => Promise<ActionState>;
const ORIGINS = ['daily', 'weekly', 'monthly'] as const;
type Origin = (typeof ORIGINS)[number];

export function BackupTypeEditor({ plan, current, origins, save }: { plan: string; current: Record<Origin, string>; origins: Origin[]; save: Action }) {
  const [types, setTypes] = useState(current);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [pending, start] = useTransition();
  const changed = ORIGINS.filter((o) => types[o] !== current[o]);
  const onSave = () => {
    const summary = changed.map((o) => `${o}: ${current[o]} → ${types[o]}`).join(', ');
    if (!window.confirm(`Plan ${plan}: ${summary}. Backups the scheduler queues from now on follow; existing backups keep their type. Save?`)) return;
    start(async () => {
      setError(null);
      setMessage(null);
      const r = await save(null, { plan, incremental: ORIGINS.filter((o) => types[o] === 'incremental').join(',') });
      if (r.error) setError(r.error);
      else setMessage(r.message ?? 'Saved.');
    });
  };
  return (
    <div className="space-y-3 border-t border-slate-200 pt-3" data-testid={`backup-types-${plan}`}>
      <p className="text-xs text-slate-500">
        Backup type per schedule. Incremental: the dump is taken in full, but only the parts the store does not hold yet are uploaded. A backup that is also a full schedule’s is full.
      </p>
      <div className="grid grid-cols-3 gap-2">
        {origins.map((o) => (
          <div key={o}>
            <label htmlFor={`${plan}-type-${o}`} className="block text-xs capitalize text-slate-500">
              {o}
            </label>
            <select id={`${plan}-type-${o}`} className={inputClass} value={types[o]} onChange={(e) => setTypes((t) => ({ ...t, [o]: e.target.value }))}>
              <option value="full">full</option>
              <option value="incremental">incremental</option>
            </select>
          </div>
        ))}
      </div>
      <button type="button" className={buttonClass.primary} disabled={pending || changed.length === 0} onClick={onSave}>
        Save backup types
      </button>
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
