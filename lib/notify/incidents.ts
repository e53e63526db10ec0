// One notification per incident: the incidents table holds at most one open row per (kind,
// subject) (a partial unique index), so the first detection opens it and sends the webhook, later
// detections find it open and stay quiet, and resolving it closes it (the next failure is news again).
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.ts';
import type { Config } from '../env.ts';
import { postWebhook } from './webhook.ts';

export type IncidentKind = 'backup_failed' | 'restore_failed' | 'verify_failed' | 'drill_failed' | 'overdue';

export interface NotifyContext {
  db: Db;
  config: Pick<Config, 'STRATA_WEBHOOK_URL'>;
  log?: Logger;
}

/** Opens the incident; true (and the webhook sent) only when it was not already open. */
export async function openIncident(ctx: NotifyContext, kind: IncidentKind, subject: string, text: string): Promise<boolean> {
  const res = await ctx.db.execute(sql`
    insert into incidents (kind, subject) values (${kind}, ${subject})
    on conflict (kind, subject) where closed_at is null do nothing
    returning id`);
  if (res.rows.length === 0) return false;
  ctx.log?.warn({ incident: kind, subject }, text);
  await postWebhook(ctx.config.STRATA_WEBHOOK_URL, `Strata: ${text}`, ctx.log);
  return true;
}

export async function closeIncident(ctx: NotifyContext, kind: IncidentKind, subject: string): Promise<boolean> {
  const res = await ctx.db.execute(sql`
    update incidents set closed_at = now() where kind = ${kind} and subject = ${subject} and closed_at is null returning id`);
  return res.rows.length > 0;
}

/** Open incidents of a kind, by subject. */
export async function openSubjects(db: Db, kind: IncidentKind): Promise<Set<string>> {
  const res = await db.execute<{ subject: string }>(sql`select subject from incidents where kind = ${kind} and closed_at is null`);
  return new Set(res.rows.map((r) => r.subject));
}
