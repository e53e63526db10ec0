// verifyBackup: proves a backup restores. Fetch and check it (fetch.ts), restore it exactly into a
// scratch database (scratch.ts: extensions, `public` definitions and referenced rows first, then the
// dump with --exit-on-error — missing roles or objects fail the verification instead of being
// tolerated), count tables and rows, record the verification, drop the scratch database always.
// Nothing from the bucket is used before it is proven (issue 13): the manifest must be signed by a
// known key and match the catalog row (readTrustedManifest), and the dump's contents must stay inside
// the tenant's schema (fetch.ts): a refusal is a failed verification naming the reason, and audited.
import { eq } from 'drizzle-orm';
import pg from 'pg';
import type { Db } from '../db/client.ts';
import { backupJobs, backupVerifications, type VerificationRow } from '../db/schema.ts';
import type { Config } from '../env.ts';
import type { Stores } from '../storage/registry.ts';
import { InvalidDumpError, RestoreNotFoundError, RestoreRequestError } from './errors.ts';
import { fetchVerifiedDump } from './fetch.ts';
import { auditRefusal, readTrustedManifest } from './manifest.ts';
import { copyToRead } from './best-copy.ts';
import { createScratchDatabase, restoreIntoScratch } from './scratch.ts';
import { redactSecrets } from '../process/redact.ts';
import { verifyFiles } from './files.ts';
import { loadIdentities } from './fetch-chunks.ts';
import type { RestoreManifest } from './manifest.ts';
import type { ObjectStore } from '../storage/types.ts';

export interface VerifyContext {
  db: Db;
  config: Config;
  stores: Stores;
  signal?: AbortSignal;
}

export interface VerifyOptions {
  /** An existing (queued) verification row to fill in; otherwise a new row is inserted. */
  verificationId?: string;
  requestedBy?: string;
  isDrill?: boolean;
  /** An admin confirmed verifying a backup whose manifest is unsigned (never for drills). */
  allowUnsigned?: boolean;
  /** Read exactly the named copy, not the cheapest copy of its backup point to read. */
  exactCopy?: boolean;
}

export interface VerificationDetails {
  schema: string;
  backup_location: string;
  /** Rows per table (partitions counted as their own tables; partitioned parents hold no rows). */
  tables: Record<string, number>;
  /** The backup's files, each read back and checked by SHA-256 (absent without files). */
  files?: { count: number; bytes: number };
}

/**
 * Verifies one backup and returns its verification row: `passed` with tables/rows/details, or
 * `failed` with error_message (secrets stripped). A failed verification is a result, not an exception;
 * it throws only when the backup does not exist.
 */
export async function verifyBackup(ctx: VerifyContext, backupId: string, options: VerifyOptions = {}): Promise<VerificationRow> {
  const { db, config, signal } = ctx;
  const [named] = await db.select().from(backupJobs).where(eq(backupJobs.id, backupId));
  if (!named) throw new RestoreNotFoundError(`backup ${backupId}`, 'backup_id');
  // The cheapest copy of the point to read (S3 Standard, B2, Standard-IA), unless exactly this one.
  const backup = await copyToRead(db, named, options.exactCopy === true);
  const startedAt = new Date();
  let id = options.verificationId;
  if (id) {
    await db
      .update(backupVerifications)
      .set({ status: 'running', startedAt, completedAt: null, errorMessage: null, copyBackupId: backup.id })
      .where(eq(backupVerifications.id, id));
  } else {
    const [row] = await db
      .insert(backupVerifications)
      .values({
        backupId,
        tenantId: backup.tenantId,
        copyBackupId: backup.id,
        exactCopy: options.exactCopy === true,
        status: 'running',
        startedAt,
        requestedBy: options.requestedBy ?? 'system',
        isDrill: options.isDrill ?? false,
      })
      .returning({ id: backupVerifications.id });
    id = row!.id;
  }
  try {
    if (backup.status !== 'completed' || !backup.backupLocation) {
      throw new RestoreRequestError(`backup ${backup.id} is ${backup.status}, not completed`, 'backup_id');
    }
    const { manifest, store } = await readTrustedManifest(ctx, backup, { allowUnsigned: options.allowUnsigned === true && !options.isDrill });
    const location = backup.backupLocation;
    const fetched = await fetchVerifiedDump({ store, location, manifest, config, signal, owner: { kind: 'verify', jobKey: id } }).catch((err: unknown) => auditRefusal(db, backup, err));
    try {
      const scratch = await createScratchDatabase(config, 'verify', id);
      try {
        const schema = manifest.tenant.schema_name;
        await restoreIntoScratch(config, scratch, fetched.dumpPath, schema, signal);
        const tables = await countRows(scratch.url, schema);
        // The tenant's files: every referenced file read back and checked by its SHA-256 (files.ts).
        const files = backup.includeFiles ? await verifyFilesOf(config, store, manifest, signal) : undefined;
        const details: VerificationDetails = { schema, backup_location: backup.backupLocation, tables, ...(files ? { files } : {}) };
        const [row] = await db
          .update(backupVerifications)
          .set({
            status: 'passed',
            tables: Object.keys(tables).length,
            rows: Object.values(tables).reduce((a, b) => a + b, 0),
            details,
            completedAt: new Date(),
            errorMessage: null,
          })
          .where(eq(backupVerifications.id, id))
          .returning();
        return row!;
      } finally {
        await scratch.drop().catch(() => {});
      }
    } finally {
      await fetched.cleanup();
    }
  } catch (err) {
    const [row] = await db
      .update(backupVerifications)
      .set({ status: 'failed', completedAt: new Date(), errorMessage: redactSecrets((err as Error).message, config).slice(0, 4000) })
      .where(eq(backupVerifications.id, id))
      .returning();
    return row!;
  }
}

async function verifyFilesOf(config: Config, store: ObjectStore, manifest: RestoreManifest, signal?: AbortSignal): Promise<{ count: number; bytes: number }> {
  if (!manifest.files) throw new InvalidDumpError(`the manifest of backup ${manifest.backup.id} lists no files, though the catalog says it holds some`);
  const identityFile = config.BACKUP_DECRYPTION_IDENTITY_FILE;
  if (!identityFile) throw new RestoreRequestError('BACKUP_DECRYPTION_IDENTITY_FILE is required to verify files');
  const checked = await verifyFiles(store, manifest, loadIdentities(identityFile), signal);
  return { count: checked.files, bytes: checked.bytes };
}

/** Exact row counts of every table (relkind r, partitions included) in the schema. */
async function countRows(url: string, schema: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url, application_name: 'strata-verify' });
  // A dropped connection fails the query in flight; unhandled, the 'error' event would kill the process.
  client.on('error', () => {});
  await client.connect();
  try {
    const rels = await client.query<{ relname: string; q: string }>(
      `SELECT c.relname, format('%I.%I', n.nspname, c.relname) AS q FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY c.relname`,
      [schema],
    );
    const out: Record<string, number> = {};
    for (const r of rels.rows) {
      const res = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ONLY ${r.q}`);
      out[r.relname] = Number(res.rows[0]!.n);
    }
    return out;
  } finally {
    await client.end();
  }
}
