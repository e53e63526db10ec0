// "Verify": queue a restore test of one completed backup; a worker runs it.
import type { Db } from '../../db/client.ts';
import { backupVerifications } from '../../db/schema.ts';
import { audit } from '../../audit.ts';
import type { Actor } from '../../auth/session.ts';
import { backupById } from '../../db/queries/backups.ts';
import { ApiError, badRequest, notFound } from '../errors.ts';

/**
 * allowUnsigned (admin only): verify a backup whose manifest is unsigned (taken before signing existed; issue 13).
 * exactCopy: read exactly this copy; otherwise the worker reads the cheapest copy of its backup point.
 */
export async function requestVerification(db: Db, actor: Actor, backupId: string, options: { allowUnsigned?: boolean; exactCopy?: boolean } = {}) {
  if (options.allowUnsigned && actor.role !== 'admin') throw new ApiError('forbidden', 'only an admin may verify an unsigned backup', 'allow_unsigned');
  const backup = await backupById(db, backupId);
  if (!backup) throw notFound(`backup ${backupId} does not exist`);
  if (backup.status !== 'completed') throw badRequest(`backup ${backupId} is ${backup.status}; only a completed backup can be verified`, 'backup_id');
  const [row] = await db
    .insert(backupVerifications)
    .values({
      backupId: backup.id,
      tenantId: backup.tenantId,
      status: 'pending',
      requestedBy: actor.name,
      allowUnsigned: options.allowUnsigned === true,
      exactCopy: options.exactCopy === true,
    })
    .returning();
  await audit(db, {
    actor: actor.name,
    action: 'verification.create',
    target: backup.tenantId,
    details: {
      backup_id: backup.id,
      verification_id: row!.id,
      ...(options.allowUnsigned ? { allow_unsigned: true } : {}),
      ...(options.exactCopy ? { exact_copy: true } : {}),
    },
  });
  return row!;
}
