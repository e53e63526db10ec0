// `strata doctor`: what backups and restores need, each check saying exactly what is missing.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { PLATFORM_CONTRACT, platformTenantsSql } from '../db/platform.ts';
import type { Config } from '../env.ts';
import { redactSecrets } from '../process/redact.ts';
import { keyId, signingKeyOf, verifyKeysOf } from '../backup/signing.ts';
import { filesBucketFromConfig } from '../storage/files-bucket.ts';
import type { Stores } from '../storage/registry.ts';
import { findTool, TOOLS, type SystemTool } from '../process/system-tools.ts';
import { inspectRole, replayRoleRefusal, replayUrl } from '../restore/replay-role.ts';
import { hasRestrictFix, parseClientVersion, restrictFixedRelease } from './restrict-fix.ts';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface DoctorDeps {
  db: Db;
  config: Config;
  stores: Stores;
  /** Directories searched for programs (default PATH); tests narrow it to prove a missing binary is reported. */
  path?: string;
}

function majorOf(versionText: string): number | null {
  const m = /(\d+)(?:\.\d+)?/.exec(versionText.replace(/^[^\d]*/, ''));
  return m ? Number(m[1]) : null;
}

function toolVersion(tool: SystemTool, pathDirs: string | undefined): { path: string | null; version: string } {
  const found = pathDirs === undefined ? findTool(tool) : findIn(tool.command, pathDirs);
  if (!found) return { path: null, version: '' };
  const res = spawnSync(found, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return { path: found, version: `${res.stdout ?? ''}${res.stderr ?? ''}`.trim().split('\n')[0] ?? '' };
}

function findIn(command: string, pathDirs: string): string | null {
  for (const dir of pathDirs.split(':')) {
    const p = `${dir}/${command}`;
    if (dir && fs.existsSync(p)) return p;
  }
  return null;
}

async function binaryChecks(deps: DoctorDeps, serverMajor: number | null): Promise<Check[]> {
  const checks: Check[] = [];
  for (const tool of [TOOLS.pgDump, TOOLS.pgRestore, TOOLS.psql]) {
    const { path, version } = toolVersion(tool, deps.path);
    const major = majorOf(version);
    const ok = !!path && (serverMajor === null || (major !== null && major >= serverMajor));
    checks.push({
      name: `binary:${tool.command}`,
      ok,
      detail: !path
        ? `${tool.command} not found; install it with: apt-get install -y ${tool.aptPackage} (major version ≥ ${serverMajor ?? 'the server'})`
        : ok
          ? `${version} (${path})`
          : `${version} is older than the server (major ${serverMajor}); install the PostgreSQL ${serverMajor} client`,
    });
  }
  for (const tool of [TOOLS.zstd, TOOLS.age]) {
    const { path, version } = toolVersion(tool, deps.path);
    checks.push({
      name: `binary:${tool.command}`,
      ok: !!path,
      detail: path ? `${version} (${path})` : `${tool.command} not found; install it with: apt-get install -y ${tool.aptPackage}`,
    });
  }
  return checks;
}

type PrivRow = { rolname: string; rolsuper: boolean; rolbypassrls: boolean; rolcreatedb: boolean; server_version_num: number };

async function privilegeChecks(db: Db): Promise<{ checks: Check[]; serverMajor: number | null }> {
  const me = (await db.execute<PrivRow>(sql`
    select rolname, rolsuper, rolbypassrls, rolcreatedb, current_setting('server_version_num')::int as server_version_num
    from pg_roles where rolname = current_user`)).rows[0]!;
  const serverMajor = Math.floor(me.server_version_num / 10000);
  const checks: Check[] = [
    {
      name: 'privilege:read-all-rows',
      ok: me.rolsuper || me.rolbypassrls,
      detail: me.rolsuper || me.rolbypassrls
        ? `${me.rolname} ${me.rolsuper ? 'is superuser' : 'has BYPASSRLS'}: row-level security cannot hide rows from pg_dump`
        : `${me.rolname} needs BYPASSRLS (ALTER ROLE ${me.rolname} BYPASSRLS) or pg_dump silently misses rows hidden by row-level security`,
    },
  ];
  return { checks, serverMajor };
}

async function bucketChecks(deps: DoctorDeps): Promise<Check[]> {
  const checks: Check[] = [];
  const tiers = deps.config.b2Configured ? (['s3_standard', 'b2_cold'] as const) : (['s3_standard'] as const);
  for (const tier of tiers) {
    const store = deps.stores.forTier(tier);
    const where = store.location('');
    try {
      // A listing, not a HEAD: a HEAD of a missing bucket looks like a missing object.
      for await (const _ of store.list('backups/.strata-doctor-probe')) break;
      checks.push({ name: `bucket:${tier === 'b2_cold' ? 'b2' : 's3'}`, ok: true, detail: `${where} reachable` });
    } catch (err) {
      checks.push({
        name: `bucket:${tier === 'b2_cold' ? 'b2' : 's3'}`,
        ok: false,
        detail: `${where} not reachable: ${redactSecrets((err as Error).message, deps.config)}`,
      });
    }
  }
  if (!deps.config.b2Configured) {
    checks.push({ name: 'bucket:b2', ok: false, detail: 'B2 is not configured: b2_cold backups (monthly) cannot run. Set B2_APPLICATION_KEY_ID, B2_APPLICATION_KEY, B2_BUCKET_NAME, B2_BUCKET_ID' });
  }
  return checks;
}

/** How long the files bucket may take to answer before doctor calls it unreachable. */
const FILES_CHECK_TIMEOUT_MS = 20_000;

/** Why a HeadBucket failed, in words: the SDK's message for a 404 or 403 is often just "UnknownError". */
function headBucketFailure(err: unknown): string {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  if (status === 404 || e?.name === 'NotFound' || e?.name === 'NoSuchBucket') return 'the bucket does not exist (HTTP 404)';
  if (status === 403) return 'access denied (HTTP 403): check STRATA_FILES_ACCESS_KEY_ID / STRATA_FILES_SECRET_ACCESS_KEY (default: the S3 credentials)';
  if (status === 301) return 'the bucket is in another region (HTTP 301): set STRATA_FILES_REGION';
  const message = e?.message && e.message !== 'UnknownError' ? e.message : (e?.name ?? String(err));
  return status ? `${message} (HTTP ${status})` : message;
}

/**
 * The application's files bucket (design.md "Tenant files"): off when STRATA_FILES_BUCKET is unset
 * (not a failure: backups without files need nothing of it), else it answers a HeadBucket.
 */
export async function filesBucketCheck(config: Config): Promise<Check> {
  const name = 'bucket:files';
  const bucket = filesBucketFromConfig(config);
  if (!bucket) return { name, ok: true, detail: 'tenant files: off — STRATA_FILES_BUCKET is not set' };
  const endpoint = config.STRATA_FILES_ENDPOINT ?? config.S3_ENDPOINT;
  let where = bucket.location('');
  try {
    if (endpoint) where += ` at ${new URL(endpoint).origin}`;
  } catch {
    /* validated by the configuration already */
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      bucket.check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${FILES_CHECK_TIMEOUT_MS / 1000} s`)), FILES_CHECK_TIMEOUT_MS);
      }),
    ]);
    return { name, ok: true, detail: `tenant files: ${where} reachable (prefix ${config.STRATA_FILES_PREFIX})` };
  } catch (err) {
    return { name, ok: false, detail: `tenant files: ${where} not reachable: ${redactSecrets(headBucketFailure(err), config)}` };
  } finally {
    clearTimeout(timer);
    bucket.destroy();
  }
}

/** Public keys of every identity in the file (age-keygen -y converts each one). */
function identityRecipients(file: string): Set<string> | string {
  if (!fs.existsSync(file)) return `${file} does not exist`;
  const res = spawnSync('age-keygen', ['-y', file], { encoding: 'utf8' });
  if (res.status !== 0) return `cannot read ${file}: ${res.stderr.trim()}`;
  return new Set(res.stdout.split('\n').map((l) => l.trim()).filter(Boolean));
}

async function keyChecks(deps: DoctorDeps): Promise<Check[]> {
  const file = deps.config.BACKUP_DECRYPTION_IDENTITY_FILE;
  if (!file) {
    return [{ name: 'keys:identity-file', ok: false, detail: 'BACKUP_DECRYPTION_IDENTITY_FILE is not set: this machine cannot restore or verify' }];
  }
  const have = identityRecipients(file);
  if (typeof have === 'string') return [{ name: 'keys:identity-file', ok: false, detail: have }];
  const checks: Check[] = [{ name: 'keys:identity-file', ok: true, detail: `${file} holds ${have.size} key(s)` }];
  const current = deps.config.BACKUP_ENCRYPTION_RECIPIENTS;
  const currentMissing = current.filter((r) => !have.has(r));
  checks.push({
    name: 'keys:current-recipients',
    ok: currentMissing.length < current.length,
    detail: currentMissing.length < current.length
      ? `new backups can be decrypted here (${current.length - currentMissing.length} of ${current.length} recipients)`
      : `no key in ${file} matches BACKUP_ENCRYPTION_RECIPIENTS: new backups could not be restored here`,
  });
  // Every retained backup must be decryptable: its manifest names the recipients it was encrypted to.
  let retained: { id: string; backup_location: string }[];
  try {
    retained = (await deps.db.execute<{ id: string; backup_location: string }>(sql`
      select id, backup_location from backup_jobs where status = 'completed' and backup_location is not null`)).rows;
  } catch (err) {
    checks.push({ name: 'keys:retained-backups', ok: false, detail: `cannot read the backup catalog: ${redactSecrets((err as Error).message, deps.config)}` });
    return checks;
  }
  const unreadable: string[] = [];
  for (const b of retained) {
    const manifestKey = b.backup_location.replace(/^(s3|b2):\/\/[^/]+\//, '').replace(/dump\.zst\.age$/, 'manifest.json');
    try {
      const store = deps.stores.forLocation(b.backup_location);
      const chunks: Buffer[] = [];
      for await (const c of await store.get(manifestKey)) chunks.push(c as Buffer);
      const manifest = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { encryption?: { recipients?: string[] } };
      if (!(manifest.encryption?.recipients ?? []).some((r) => have.has(r))) unreadable.push(b.id);
    } catch {
      unreadable.push(b.id);
    }
  }
  checks.push({
    name: 'keys:retained-backups',
    ok: unreadable.length === 0,
    detail: unreadable.length === 0
      ? `every retained backup (${retained.length}) has a recipient with a key in ${file}`
      : `${unreadable.length} of ${retained.length} retained backups have no key in ${file} (or no readable manifest): ${unreadable.slice(0, 10).join(', ')}${unreadable.length > 10 ? ', …' : ''}`,
  });
  return checks;
}

// Types Strata can read each contract column as (it compares and stores them as text).
const TEXTUAL = ['text', 'character varying', 'character', 'name', 'citext'];
const ID_TYPES = [...TEXTUAL, 'integer', 'bigint', 'smallint', 'uuid'];
const USABLE: Record<string, Record<string, string[]>> = {
  tenants: { id: ID_TYPES, name: TEXTUAL, schema_name: TEXTUAL },
  subscription_tiers: { id: ID_TYPES, name: TEXTUAL },
  tenant_subscriptions: { tenant_id: ID_TYPES, tier_id: ID_TYPES },
};

/**
 * The platform tables as the application built them (issue 12): each exists and has the contract's
 * columns in a type Strata can read. Extra columns, defaults, triggers and RLS are the application's
 * business. Names what is wrong instead of a query failing later.
 */
export async function platformTableChecks(db: Db): Promise<Check[]> {
  const checks: Check[] = [];
  for (const [table, columns] of Object.entries(PLATFORM_CONTRACT)) {
    const res = await db.execute<{ exists: boolean; column: string | null; type: string | null }>(sql`
      select to_regclass(${table}) is not null as exists, a.attname as column, format_type(a.atttypid, null) as type
      from (select 1) one
      left join pg_attribute a on a.attrelid = to_regclass(${table}) and a.attnum > 0 and not a.attisdropped
        and a.attname = any(${`{${columns.join(',')}}`}::text[])`);
    const exists = res.rows[0]?.exists ?? false;
    if (!exists) {
      checks.push({ name: `platform:${table}`, ok: false, detail: `table ${table} does not exist (Strata reads ${table}(${columns.join(', ')}); \`strata migrate\` creates it only for a demo)` });
      continue;
    }
    const found = new Map(res.rows.filter((r) => r.column !== null).map((r) => [r.column!, r.type!]));
    const problems: string[] = [];
    for (const column of columns) {
      const type = found.get(column);
      const usable = USABLE[table]![column]!;
      if (type === undefined) problems.push(`column ${table}.${column} is missing`);
      else if (!usable.includes(type.replace(/^public\./, ''))) problems.push(`column ${table}.${column} is ${type}; Strata needs one of ${usable.join(', ')}`);
    }
    checks.push({
      name: `platform:${table}`,
      ok: problems.length === 0,
      detail: problems.length === 0 ? `${table}(${columns.join(', ')}) readable` : problems.join('; '),
    });
    }
  return checks;
}

/**
 * Manifest signing (issue 13): the key that signs new backups is usable and private, and the keys
 * restores accept can be read and include it (else this machine's own backups would be refused).
 */
export function signingChecks(config: Pick<Config, 'STRATA_SIGNING_KEY_FILE' | 'STRATA_VERIFY_KEYS'>): Check[] {
  const checks: Check[] = [];
  let signingId: string | null = null;
  try {
    const key = signingKeyOf(config);
    signingId = keyId(crypto.createPublicKey(key));
    const mode = fs.statSync(config.STRATA_SIGNING_KEY_FILE!).mode & 0o777;
    checks.push(
      mode & 0o077
        ? { name: 'signing:key', ok: false, detail: `${config.STRATA_SIGNING_KEY_FILE} is readable by others (mode ${mode.toString(8)}): chmod 600 it` }
        : { name: 'signing:key', ok: true, detail: `new backups are signed with key ${signingId}` },
    );
  } catch (err) {
    checks.push({ name: 'signing:key', ok: false, detail: `${(err as Error).message}; this machine cannot take backups` });
  }
  try {
    const keys = verifyKeysOf(config);
    const ids = keys.map((k) => k.id);
    checks.push(
      signingId && !ids.includes(signingId)
        ? { name: 'signing:verify-keys', ok: false, detail: `STRATA_VERIFY_KEYS (${ids.join(', ')}) does not include the signing key ${signingId}: backups taken here would be refused` }
        : { name: 'signing:verify-keys', ok: true, detail: `restores accept manifests signed by ${ids.join(', ')}` },
    );
  } catch (err) {
    checks.push({ name: 'signing:verify-keys', ok: false, detail: `${(err as Error).message}; this machine cannot restore or verify` });
    }
  return checks;
}

/**
 * pg_restore and psql with the `\restrict` fix (CVE-2025-8714): a replay pipes one into the other, so a
 * dump's meta-commands must not reach psql.
 */
function restrictFixChecks(deps: DoctorDeps): Check[] {
  return [TOOLS.pgRestore, TOOLS.psql].flatMap((tool) => {
    const { path, version } = toolVersion(tool, deps.path);
    if (!path) return [];
    const fixed = hasRestrictFix(version);
    const major = parseClientVersion(version)?.major;
    return [
      {
        name: `binary:${tool.command}:restrict-fix`,
        ok: fixed === true,
        detail: fixed
          ? `${version} has the \restrict fix (CVE-2025-8714)`
          : `${version || tool.command} lacks the \restrict fix (CVE-2025-8714): a forged dump could run commands on this host; ` +
            `upgrade to ${major === undefined ? 'a fixed release' : restrictFixedRelease(major)} or later`,
      },
    ];
  });
}

type ReplayOwnerRow = { owner: string; member: boolean; superuser: boolean };

// Strata's tables that the replay role must not be able to touch (it only INSERTs into restore_swaps).
const STRATA_TABLES = ['users', 'api_tokens', 'audit_log', 'backup_jobs', 'restore_jobs'];

/** The replay role (STRATA_RESTORE_DATABASE_URL, else DATABASE_URL's): README "Pointing Strata at an existing SaaS database". */
async function restoreRoleChecks(deps: DoctorDeps): Promise<Check[]> {
  const { config, db } = deps;
  const which = config.STRATA_RESTORE_DATABASE_URL ? 'STRATA_RESTORE_DATABASE_URL' : 'DATABASE_URL (STRATA_RESTORE_DATABASE_URL is unset)';
  let facts;
  try {
    facts = await inspectRole(replayUrl(config));
  } catch (err) {
    return [{ name: 'restore-role', ok: false, detail: `cannot connect as the replay role of ${which}: ${redactSecrets((err as Error).message, config)}` }];
  }
  const role = facts.sessionUser;
  const refusal = replayRoleRefusal(facts, false);
  const checks: Check[] = [
    {
      name: 'restore-role:not-superuser',
      ok: !refusal || config.STRATA_ALLOW_SUPERUSER_RESTORE,
      detail: !refusal
        ? `${role} (${which}) is not a superuser and cannot become one`
        : config.STRATA_ALLOW_SUPERUSER_RESTORE
          ? `${role} ${refusal}; replays are allowed only because STRATA_ALLOW_SUPERUSER_RESTORE=1 — a forged dump would run as superuser`
          : `${role} (${which}) ${refusal}: every restore, undo and verification is refused, because a forged dump replayed ` +
            `by a superuser can run programs on the database host. Create a replay role (README) and set STRATA_RESTORE_DATABASE_URL, ` +
            `or set STRATA_ALLOW_SUPERUSER_RESTORE=1 to accept the risk`,
    },
    {
      name: 'restore-role:createdb',
      ok: facts.superuser || facts.createdb,
      detail: facts.superuser || facts.createdb
        ? `${role} can create scratch databases for verify and clones`
        : `${role} needs CREATEDB (ALTER ROLE ${role} CREATEDB) for verify, drills and clones`,
    },
    {
      name: 'restore-role:bypassrls',
      ok: facts.superuser || facts.bypassrls,
      detail: facts.superuser || facts.bypassrls
        ? `${role} counts every row of a verified table, whatever its row-level security`
        : `${role} needs BYPASSRLS (ALTER ROLE ${role} BYPASSRLS): verify counts rows of tables with forced row-level security wrongly`,
    },
  ];
  // Restores give tenant objects back to their owners: the replay role must be a member of each, and
  // no owner may be a superuser (membership in one lets a dump SET ROLE to it).
  try {
    const owners = (await db.execute<ReplayOwnerRow>(sql`
      select distinct r.rolname as owner, pg_has_role(${role}, r.oid, 'MEMBER') as member, r.rolsuper as superuser
      from ${platformTenantsSql} t
      join pg_namespace n on n.nspname = t.schema_name
      join pg_roles r on r.oid = n.nspowner or r.oid in (select c.relowner from pg_class c where c.relnamespace = n.oid)
      order by 1`)).rows;
    const missing = owners.filter((o) => !o.member).map((o) => o.owner);
    const superusers = owners.filter((o) => o.superuser).map((o) => o.owner);
    checks.push({
      name: 'restore-role:tenant-owners',
      ok: missing.length === 0 && superusers.length === 0,
      detail: superusers.length > 0
        ? `tenant objects are owned by superuser(s) ${superusers.join(', ')}: give them to the application's role (ALTER … OWNER TO), a replay role cannot restore them`
        : missing.length === 0
          ? `${role} is a member of every role owning tenant schemas and objects (${owners.length})`
          : `${role} is not a member of roles owning tenant objects: ${missing.join(', ')} (GRANT ${missing.join(', ')} TO ${role})`,
    });
    const privileged = (await db.execute<{ table: string }>(sql`
      select t as table from unnest(${`{${STRATA_TABLES.join(',')}}`}::text[]) t
      where to_regclass(t) is not null
        and has_table_privilege(${role}, to_regclass(t), 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')`)).rows.map((r) => r.table);
    checks.push({
      name: 'restore-role:no-strata-tables',
      ok: privileged.length === 0,
      detail: privileged.length === 0
        ? `${role} has no privileges on Strata's tables (${STRATA_TABLES.join(', ')})`
        : `${role} has privileges on Strata's tables ${privileged.join(', ')}: a forged dump could read or change them. ` +
          `Use a separate role (STRATA_RESTORE_DATABASE_URL) that does not own them, and REVOKE ALL ON ${privileged.join(', ')} FROM ${role}`,
    });
  } catch (err) {
    checks.push({ name: 'restore-role:tenant-owners', ok: false, detail: `cannot read the tenants table: ${redactSecrets((err as Error).message, config)}` });
  }
  return checks;
}

export async function runDoctor(deps: DoctorDeps): Promise<Check[]> {
  let platform: Check[];
  try {
    platform = await platformTableChecks(deps.db);
  } catch (err) {
    platform = [{ name: 'platform', ok: false, detail: `cannot read the catalog: ${redactSecrets((err as Error).message, deps.config)}` }];
  }
  let priv: { checks: Check[]; serverMajor: number | null };
  try {
    priv = await privilegeChecks(deps.db);
  } catch (err) {
    priv = { checks: [{ name: 'database', ok: false, detail: `cannot query DATABASE_URL: ${redactSecrets((err as Error).message, deps.config)}` }], serverMajor: null };
  }
  return [
    ...(await binaryChecks(deps, priv.serverMajor)),
    ...restrictFixChecks(deps),
    ...priv.checks,
    ...platform,
    ...(await restoreRoleChecks(deps)),
    ...(await bucketChecks(deps)),
    await filesBucketCheck(deps.config),
    ...(await keyChecks(deps)),
    ...signingChecks(deps.config),
  ];
}
