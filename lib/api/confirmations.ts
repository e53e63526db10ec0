// What a person types to confirm a destructive choice in the dashboard: pure, so the restore dialog
// (in the browser) and its server action (which checks it again) compute the same text.

export interface DeletionTarget {
  mode: 'in_place' | 'clone';
  tenantId: string;
  /** In place onto another tenant (cross-tenant): that tenant. */
  targetTenantId?: string;
  /** A clone's files prefix. */
  filesPrefix?: string;
}

/**
 * "Delete objects not in the backup" (delete_extra) is confirmed a second time by typing whose
 * objects go: the id of the tenant whose files prefix is restored (in place), or a clone's files prefix.
 */
export function deletionConfirmation(t: DeletionTarget): string {
  return t.mode === 'clone' ? (t.filesPrefix ?? '') : (t.targetTenantId ?? t.tenantId);
}
