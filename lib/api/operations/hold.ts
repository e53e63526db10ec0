// Legal hold on one backup (admin): recorded in the catalog and as the store's marker object.
import type { Db } from '../../db/client.ts';
import { setLegalHold } from '../../backup/hold.ts';
import { audit } from '../../audit.ts';
import type { Actor } from '../../auth/session.ts';
import type { Stores } from '../../storage/registry.ts';
import { backupById } from '../../db/queries/backups.ts';
import { notFound } from '../errors.ts';

export async function setBackupHold({ db, stores }: { db: Db; stores: Stores }, actor: Actor, backupId: string, on: boolean) {
  const backup = await backupById(db, backupId);
  if (!backup) throw notFound(`backup ${backupId} does not exist`);
  await setLegalHold(db, stores, backupId, on, actor.name);
  await audit(db, { actor: actor.name, action: on ? 'backup.legal_hold_on' : 'backup.legal_hold_off', target: backup.tenantId, details: { backup_id: backupId } });
}
