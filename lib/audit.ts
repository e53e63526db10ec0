// The audit log: every mutation (dashboard, API, CLI) and every failed sign-in leaves one row.
import type { Db } from './db/client.ts';
import { auditLog } from './db/schema.ts';

export interface AuditEntry {
  /** A user's email, `token:<name>`, `cli:<user>@<host>` or `system`. */
  actor: string;
  /** dotted verb: `backup.create`, `restore.create`, `auth.sign_in_failed` … */
  action: string;
  target?: string | null;
  details?: Record<string, unknown> | null;
}

export async function audit(db: Pick<Db, 'insert'>, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values({
    actor: entry.actor,
    action: entry.action,
    target: entry.target ?? null,
    details: entry.details ?? null,
  });
}

