// How a swap that the replay role commits becomes a completed restore row, which the replay role may
// not write (it has no privileges on Strata's tables).
//
// The choice: a marker table, `restore_swaps`, on which the replay role holds INSERT and nothing else.
// The swap's own transaction (psql for a restore, a client of the replay role for an undo) ends with
// an INSERT of the restore's marker, so the marker exists if and only if the swap committed. Strata's
// role then completes the row from the marker (completeFromMarker), on the happy path right after the
// swap and, after a crash in between, on the next run of the row — which finds the marker first and
// never replays again. The alternative, a marker on the moved-aside schema, cannot describe a clone or
// a first restore (nothing is moved aside) and would be one more thing a dump could forge.
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { quoteIdent, quoteLiteral } from '../db/ident.ts';
import { restoreJobs } from '../db/schema.ts';
import type { ReplayRole } from './replay-role.ts';

export interface SwapMarker {
  /** The marker table's qualified name (the swap runs with pg_restore's empty search_path). */
  table: string;
}

/**
 * Makes sure the replay role may INSERT markers (granted once, under a lock: concurrent GRANTs on one
 * table fail with "tuple concurrently updated") and returns where they go.
 */
export async function prepareSwapMarker(db: Db, role: ReplayRole): Promise<SwapMarker> {
  return db.transaction(async (tx) => {
    const res = await tx.execute<{ table: string; granted: boolean }>(sql`
      select format('%I.%I', n.nspname, c.relname) as table, has_table_privilege(${role.user}, c.oid, 'INSERT') as granted
      from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = 'restore_swaps'::regclass`);
    const { table, granted } = res.rows[0]!;
    if (!granted) {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext('strata.restore_swaps.grant'))`);
      const again = await tx.execute<{ granted: boolean }>(sql`select has_table_privilege(${role.user}, 'restore_swaps'::regclass, 'INSERT') as granted`);
      if (!again.rows[0]!.granted) await tx.execute(sql.raw(`GRANT INSERT ON TABLE ${table} TO ${quoteIdent(role.user)}`));
    }
    return { table };
  });
}

/** The swap transaction's last statement: the marker of `restoreId`. */
export function swapMarkerSql(marker: SwapMarker, restoreId: string, movedAside: string | null): string {
  return `INSERT INTO ${marker.table} (restore_id, moved_aside_schema) VALUES (${quoteLiteral(restoreId)}, ${
    movedAside === null ? 'NULL' : quoteLiteral(movedAside)
  });`;
}

/**
 * When the swap of `restoreId` committed (its marker exists) and the row is not completed yet: records
 * it completed as of the swap's commit (and, for an undo, the undone restore as `undone`), in one
 * transaction. Returns whether the swap had committed.
 */
export async function completeFromMarker(db: Db, restoreId: string, undoRetentionDays: number): Promise<boolean> {
  return db.transaction(async (tx) => {
    const done = await tx.execute<{ undoes: string | null }>(sql`
      update restore_jobs r set status = 'completed', phase = 'completed', moved_aside_schema = s.moved_aside_schema,
        undo_expires_at = case when s.moved_aside_schema is null then null
                               else s.committed_at + make_interval(days => ${Math.trunc(undoRetentionDays)}) end,
        completed_at = s.committed_at, error_message = null, progress_bytes = coalesce(r.total_bytes, r.progress_bytes)
      from restore_swaps s
      where s.restore_id = r.id and r.id = ${restoreId} and r.status not in ('completed', 'undone')
      returning r.undoes`);
    const row = done.rows[0];
    if (row?.undoes) await tx.update(restoreJobs).set({ status: 'undone' }).where(eq(restoreJobs.id, row.undoes));
    if (row) return true;
    const marker = await tx.execute(sql`select 1 from restore_swaps where restore_id = ${restoreId}`);
    return (marker.rowCount ?? 0) > 0;
  });
}
