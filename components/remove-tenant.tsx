'use client';
// Removing a tenant (admin): says what happens to its schedules and backups, asks for the tenant id
// typed exactly, and offers the erasure path (every backup deleted now). The server re-checks the
// confirmation and refuses the erasure while a backup is on legal hold, naming it.
import { useRouter } from 'next/navigation';
import { useRef, useState } from 'react';
import type { ActionState } from '@/lib/api/action';
import { Dialog, TypedConfirmation } from './dialog';
import { buttonClass } from './ui';

type RemoveAction = (prev: ActionState | null, input: Record<string, unknown>) => Promise<ActionState>;

interface Props {
  action: RemoveAction;
  tenant: { id: string; name: string };
  backupCount: number;
  heldCount: number;
  /** Already gone from the platform: only the erasure is left to do. */
  removed: boolean;
}

export function RemoveTenantButton(props: Props) {
  const [open, setOpen] = useState(false);
  const opener = useRef<HTMLButtonElement>(null);
  return (
    <>
      <button ref={opener} type="button" className={buttonClass.secondary} onClick={() => setOpen(true)} data-testid="remove-tenant">
        {props.removed ? 'Erase backups…' : 'Remove tenant…'}
      </button>
      {open ? (
        <RemoveTenantDialog
          {...props}
          onClose={() => {
            setOpen(false);
            opener.current?.focus();
          }}
        />
      ) : null}
    </>
  );
}

function RemoveTenantDialog({ action, tenant, backupCount, heldCount, removed, onClose }: Props & { onClose: () => void }) {
  const router = useRouter();
  const [purge, setPurge] = useState(removed);
  const [confirm, setConfirm] = useState('');
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const canSubmit = !pending && !done && confirm === tenant.id;

  async function submit() {
    if (!canSubmit) return;
    setPending(true);
    setError(null);
    const result = await action(null, { tenantId: tenant.id, purgeBackups: String(purge), confirm });
    setPending(false);
    if (result.error) {
      setError(result.error);
      return;
    }
    setDone(result.message ?? 'Removed.');
  }
  // The page changes under the dialog once refreshed (the button may go): refresh on the way out.
  const close = () => {
    if (done) router.refresh();
    onClose();
  };

  const backups = `${backupCount} completed backup${backupCount === 1 ? '' : 's'}`;
  return (
    <Dialog title={removed ? `Erase the backups of ${tenant.name}` : `Remove ${tenant.name}`} onClose={close} testId="remove-tenant-dialog">
      {done ? (
        <>
          <p role="status" className="mt-4 rounded-md bg-emerald-50 p-3 text-sm text-emerald-800" data-testid="remove-tenant-outcome">
            {done}
          </p>
          <div className="mt-5 flex justify-end">
            <button type="button" className={buttonClass.secondary} onClick={close}>
              Close
            </button>
          </div>
        </>
      ) : (
        <>
          <div className="mt-3 space-y-2 text-sm text-slate-700">
            {removed ? (
              <p>This tenant is no longer on the platform. Its backups expire by policy unless you erase them now.</p>
            ) : (
              <p>
                The tenant leaves the platform’s tenant tables and its schedules stop: no new backups are taken. Its database schema is not
                dropped.
              </p>
            )}
          </div>
          {!removed ? (
            <label className="mt-4 flex items-start gap-2 text-sm">
              <input type="checkbox" checked={purge} onChange={(e) => setPurge(e.target.checked)} className="mt-1" data-testid="remove-tenant-purge" />
              <span className="font-medium text-slate-800">Also delete all its backups now (erasure)</span>
            </label>
          ) : null}
          <div
            className={`mt-3 rounded-md border p-3 text-sm ${purge ? 'border-red-200 bg-red-50 text-red-900' : 'border-amber-200 bg-amber-50 text-amber-900'}`}
            data-testid="remove-tenant-explanation"
          >
            {purge ? (
              <p>
                Its {backups} are deleted from their stores now, every stored version included. This cannot be undone. Refused, with nothing
                changed, while any of them is on legal hold
                {heldCount ? (
                  <>
                    {' '}
                    — <strong>{heldCount} is on hold now</strong>
                  </>
                ) : null}
                .
              </p>
            ) : (
              <p>Its {backups} stay listed and expire by policy, without the usual floor of keeping the newest one.</p>
            )}
          </div>
          <TypedConfirmation
            id="remove-confirm"
            expected={tenant.id}
            value={confirm}
            onChange={setConfirm}
            error={error}
            canSubmit={canSubmit}
            onSubmit={submit}
            onCancel={onClose}
            submitLabel={pending ? 'Removing…' : removed ? 'Erase all backups' : purge ? 'Remove and erase backups' : 'Remove tenant'}
            submitTestId="remove-tenant-submit"
          />
        </>
      )}
    </Dialog>
  );
}
