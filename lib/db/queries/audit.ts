// The audit log, newest first, filterable by actor and action.
import { and, count, desc, ilike, type SQL } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { auditLog } from '../schema.ts';

export async function auditPage(db: Db, filters: { actor?: string; action?: string }, page: number, pageSize = 50) {
  const parts: SQL[] = [];
  const esc = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
  if (filters.actor) parts.push(ilike(auditLog.actor, `%${esc(filters.actor)}%`));
  if (filters.action) parts.push(ilike(auditLog.action, `${esc(filters.action)}%`));
  const where = parts.length ? and(...parts) : undefined;
  const [rows, [total]] = await Promise.all([
    db.select().from(auditLog).where(where).orderBy(desc(auditLog.at), desc(auditLog.id)).limit(pageSize).offset((Math.max(1, page) - 1) * pageSize),
    db.select({ n: count() }).from(auditLog).where(where),
  ]);
  return { rows, total: Number(total?.n ?? 0), page, pageSize };
}
