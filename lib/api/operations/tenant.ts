// Removing a tenant (admin): it leaves the platform tables and loses its schedules; with
// purgeBackups every backup of it is deleted now (the erasure path, docs/design.md "Retention").
// Audited either way, refusals included: an erasure blocked by a legal hold is worth a record.
import type { Db } from '../../db/client.ts';
import { audit } from '../../audit.ts';
import type { Actor } from '../../auth/session.ts';
import { platformTenant, removedTenants } from '../../views/tenants.ts';
import { removeTenant, type RemoveTenantResult } from '../../prune/remove-tenant.ts';
import { PurgeRefusedError } from '../../retention/decisions.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import type { Stores } from '../../storage/registry.ts';

export async function offboardTenant(
  { db, stores }: { db: Db; stores: Stores },
  actor: Actor,
  input: { tenantId: string; purgeBackups: boolean; confirm: string },
): Promise<RemoveTenantResult> {
  const { tenantId, purgeBackups } = input;
  // The server checks the typed confirmation again: the dialog only keeps people from clicking through.
  if (input.confirm !== tenantId) throw badRequest(`type the tenant id ${tenantId} exactly to confirm`, 'confirm');
  const active = await platformTenant(db, tenantId);
  const removed = active ? [] : await removedTenants(db, tenantId);
  if (!active && removed.length === 0) throw notFound(`tenant ${tenantId} does not exist`);
  if (!active && !purgeBackups) throw conflict(`tenant ${tenantId} is already removed; its backups expire by policy`);
  let result: RemoveTenantResult;
  try {
    result = await removeTenant({ db, stores }, tenantId, { purgeBackups });
  } catch (err) {
    if (!(err instanceof PurgeRefusedError)) throw err;
    await audit(db, {
      actor: actor.name,
      action: 'tenant.remove_refused',
      target: tenantId,
      details: { held_backup_ids: err.heldBackupIds, running_backup_ids: err.runningBackupIds },
    });
    throw conflict(refusal(err));
  }
  await audit(db, {
    actor: actor.name,
    action: purgeBackups ? 'tenant.remove_purge' : 'tenant.remove',
    target: tenantId,
    details: { removed_from_platform: result.removedFromPlatform, deleted: result.decisions.length, failed: result.failed.length },
  });
  return result;
}

function refusal(err: PurgeRefusedError): string {
  const parts: string[] = [];
  if (err.heldBackupIds.length) parts.push(`${plural(err.heldBackupIds.length, 'backup')} on legal hold (${err.heldBackupIds.join(', ')}) — lift the hold first`);
  if (err.runningBackupIds.length) parts.push(`${plural(err.runningBackupIds.length, 'backup')} still running (${err.runningBackupIds.join(', ')}) — wait for it to finish`);
  return `Nothing was removed or deleted: ${parts.join('; ')}.`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
