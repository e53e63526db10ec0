// Undo (docs/design.md "Restore"): allowed only for the tenant's latest completed restore while its
// moved-aside copy exists. One transaction of the replay role (replay-role.ts: the schemas belong to
// tenant owners, not to Strata's role) swaps the live schema and the moved-aside copy, keeping the
// restored version aside in turn, and writes the undo's swap marker; runRestore then marks the undone
// restore `undone` and completes the undo row from that marker (swap-marker.ts), also after a crash.
// Strata's role holds the undone row locked meanwhile: two undos of one restore never both swap.
import { and, desc, eq, ne, sql } from 'drizzle-orm';
import pg from 'pg';
import type { Db } from '../db/client.ts';
import { quoteIdent } from '../db/ident.ts';
import { restoreJobs, type RestoreJobRow } from '../db/schema.ts';
import { redactSecrets } from '../process/redact.ts';
import { dependentsOutside, schemaExists } from './catalog.ts';
import { DependentObjectsError, ReplayFailedError, RestoreNotFoundError, UndoNotAllowedError } from './errors.ts';
import { freeUndoName, setPhase, type RestoreContext } from './context.ts';
import { replayRole } from './replay-role.ts';
import { prepareSwapMarker, swapMarkerSql } from './swap-marker.ts';

type Reader = Pick<Db, 'select' | 'execute'>;

/** Why `undone` cannot be undone now, or null when it can. */
export async function undoRefusal(db: Reader, undone: RestoreJobRow, excludeId?: string): Promise<string | null> {
  if (undone.status !== 'completed') return `restore ${undone.id} is ${undone.status}; only a completed restore can be undone`;
  if (undone.mode !== 'in_place' || !undone.movedAsideSchema) {
    return `restore ${undone.id} moved nothing aside (a clone, or the schema did not exist): there is nothing to swap back`;
  }
  const [latest] = await db
    .select({ id: restoreJobs.id })
    .from(restoreJobs)
    .where(
      and(
        eq(restoreJobs.tenantId, undone.tenantId),
        eq(restoreJobs.mode, 'in_place'),
        eq(restoreJobs.status, 'completed'),
        excludeId ? ne(restoreJobs.id, excludeId) : sql`true`,
      ),
    )
    .orderBy(desc(restoreJobs.completedAt), desc(restoreJobs.seq))
    .limit(1);
  if (latest?.id !== undone.id) return `restore ${undone.id} is not tenant ${undone.tenantId}'s latest restore; only the latest can be undone`;
  const res = await db.execute<{ exists: boolean }>(
    sql`select exists (select from pg_namespace where nspname = ${undone.movedAsideSchema}) as exists`,
  );
  if (!res.rows[0]?.exists) return `the moved-aside copy ${JSON.stringify(undone.movedAsideSchema)} of restore ${undone.id} no longer exists`;
  return null;
}

export async function runUndo(ctx: RestoreContext, row: RestoreJobRow): Promise<void> {
  const { db, config } = ctx;
  const [undone] = await db.select().from(restoreJobs).where(eq(restoreJobs.id, row.undoes!));
  if (!undone) throw new RestoreNotFoundError(`restore ${row.undoes}`, 'undoes');
  const refusal = await undoRefusal(db, undone, row.id);
  if (refusal) throw new UndoNotAllowedError(refusal);
  const role = await replayRole(config);
  const marker = await prepareSwapMarker(db, role);
  const live = undone.targetSchema;
  if (await schemaExists(db, live)) {
    const dependents = await dependentsOutside(db, live);
    if (dependents.length > 0) throw new DependentObjectsError(live, dependents);
  }
  await setPhase(db, row.id, 'swapping');
  const aside = await freeUndoName(db);
  await db.transaction(async (tx) => {
    await tx.execute(sql`set local lock_timeout = '60s'`);
    // Lock the undone row and check again: two undos of the same restore must not both swap.
    const [locked] = await tx.select().from(restoreJobs).where(eq(restoreJobs.id, undone.id)).for('update');
    const again = locked ? await undoRefusal(tx, locked, row.id) : 'the restore disappeared';
    if (again) throw new UndoNotAllowedError(again);
    const liveExists = await schemaExists(tx as unknown as Db, live);
    await swapAsReplayRole(role.url, [
      ...(liveExists ? [`ALTER SCHEMA ${quoteIdent(live)} RENAME TO ${quoteIdent(aside)}`] : []),
      `ALTER SCHEMA ${quoteIdent(undone.movedAsideSchema!)} RENAME TO ${quoteIdent(live)}`,
      swapMarkerSql(marker, row.id, liveExists ? aside : null),
    ]).catch((err: Error) => {
      throw new ReplayFailedError(redactSecrets(err.message, config), { cause: err });
    });
  });
}

/** The statements in one transaction of the replay role. */
async function swapAsReplayRole(url: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: 'strata-restore' });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL lock_timeout = '60s'`);
    for (const statement of statements) await client.query(statement);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    await client.end().catch(() => {});
  }
}
