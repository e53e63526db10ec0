// The fault-injection and abuse suite's harness: trial counts, per-case outcome tallies written for
// scripts/chaos.ts, and the invariants every fault case checks afterwards (stored copies, B2
// versions and unfinished large files, the live tenant's fingerprint, leftover schemas).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { b2Api, listKeys } from '../backup/test-support.ts';
import type { Db } from '../db/client.ts';
import type { StorageTier } from '../domain.ts';
import type { Config } from '../env.ts';
import type { Stores } from '../storage/registry.ts';
import { parseLocation } from '../storage/types.ts';
import { leftovers } from '../../worker/leftovers.ts';

/** Trials per case: 3 in `npm test`, ≥ 20 under `npm run test:chaos`. */
export const TRIALS = Math.max(1, Number(process.env.STRATA_CHAOS_TRIALS ?? 3) || 3);
/** Where each case writes its tally (set by scripts/chaos.ts); unset: nothing is written. */
export const RESULTS_DIR_ENV = 'STRATA_CHAOS_RESULTS_DIR';

export interface CaseResult {
  case: string;
  group: 'fault' | 'abuse';
  trials: number;
  outcomes: Record<string, number>;
  /** Trials whose invariants did not hold (the test failed on them). */
  violations: number;
  seconds: number;
}

/**
 * One case of the suite: run `trial` TRIALS times (or `trials`), each returning the outcome it saw
 * ("completed after rescue", "refused: corrupt" …). A trial that throws is a violation: it is counted,
 * the tally is still written, and the error fails the test.
 */
export async function runCase(
  name: string,
  group: CaseResult['group'],
  trial: (i: number) => Promise<string | string[]>,
  trials = TRIALS,
): Promise<CaseResult> {
  const started = Date.now();
  const result: CaseResult = { case: name, group, trials: 0, outcomes: {}, violations: 0, seconds: 0 };
  let firstError: unknown;
  for (let i = 0; i < trials; i++) {
    result.trials++;
    try {
      const out = await trial(i);
      for (const o of Array.isArray(out) ? out : [out]) result.outcomes[o] = (result.outcomes[o] ?? 0) + 1;
    } catch (err) {
      result.violations++;
      result.outcomes['INVARIANT VIOLATED'] = (result.outcomes['INVARIANT VIOLATED'] ?? 0) + 1;
      firstError ??= err;
      break;
    }
  }
  result.seconds = Math.round((Date.now() - started) / 100) / 10;
  saveCase(result);
  if (firstError) throw firstError;
  return result;
}

/** Writes a tally (also used by the Playwright specs, which count their own requests). */
export function saveCase(result: CaseResult): void {
  const dir = process.env[RESULTS_DIR_ENV];
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  const slug = result.case.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  fs.writeFileSync(path.join(dir, `${slug}.json`), `${JSON.stringify(result, null, 2)}\n`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const randomInt = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));

export async function waitUntil<T>(what: string, fn: () => Promise<T | false | null | undefined>, timeoutMs: number, everyMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

type BackupFacts = {
  id: string;
  tenant_id: string;
  status: string;
  storage_tier: StorageTier;
  backup_location: string | null;
  backup_size_bytes: number | null;
  error_message: string | null;
  legal_hold: boolean;
};

/** The key prefix (`backups/<tenant>/<YYYY>/<MM>/<uuid>/`) of a backup's objects. */
export const prefixOf = (location: string) => parseLocation(location).key.replace(/dump\.zst\.age$/, '');

/**
 * What every fault case checks once the system has settled, for each backup of `tenantId`:
 * completed → exactly one dump (of the recorded size) and one manifest, one B2 version each;
 * anything else → no object at all under its prefix (no visible partial object); and no other
 * object under the tenant's prefix, no unfinished B2 large file.
 */
export async function assertStoredState(db: Db, stores: Stores, config: Config, tenantId: string): Promise<BackupFacts[]> {
  const rows = (
    await db.execute<BackupFacts>(sql`
      select id::text, tenant_id, status, storage_tier, backup_location, backup_size_bytes, error_message, legal_hold
      from backup_jobs where tenant_id = ${tenantId}`)
  ).rows;
  const problems: string[] = [];
  const expected = new Map<StorageTier, Set<string>>();
  for (const r of rows) {
    if (r.status === 'pending' || r.status === 'running') problems.push(`backup ${r.id} is still ${r.status}`);
    if (!r.backup_location) continue;
    const store = stores.forTier(r.storage_tier);
    const prefix = prefixOf(r.backup_location);
    const keys = await listKeys(store, prefix);
    if (r.status === 'completed') {
      const want = [`${prefix}dump.zst.age`, ...(r.legal_hold ? [`${prefix}legal-hold`] : []), `${prefix}manifest.json`, `${prefix}manifest.json.sig`].sort();
      if (JSON.stringify(keys) !== JSON.stringify(want)) problems.push(`completed backup ${r.id} in ${r.storage_tier} has ${JSON.stringify(keys)}`);
      const head = await store.head(`${prefix}dump.zst.age`);
      if (head?.size !== r.backup_size_bytes) problems.push(`backup ${r.id}: stored ${head?.size} bytes, the catalog says ${r.backup_size_bytes}`);
      const set = expected.get(r.storage_tier) ?? new Set();
      for (const k of want) set.add(k);
      expected.set(r.storage_tier, set);
    } else if (r.status !== 'deleted' && keys.length > 0) {
      problems.push(`${r.status} backup ${r.id} left ${JSON.stringify(keys)} in ${r.storage_tier}`);
    } else if (r.status === 'deleted' && keys.length > 0) {
      problems.push(`deleted backup ${r.id} still has ${JSON.stringify(keys)}`);
    }
  }
  for (const tier of ['s3_standard', 'b2_cold'] as const) {
    const all = await listKeys(stores.forTier(tier), `backups/${tenantId}/`);
    const extra = all.filter((k) => !expected.get(tier)?.has(k));
    if (extra.length) problems.push(`objects in ${tier} that belong to no completed backup: ${JSON.stringify(extra)}`);
  }
  if (config.b2Configured) {
    const b2 = await b2Api(config);
    const versions = await b2.fileVersions(`backups/${tenantId}/`);
    const byName = new Map<string, number>();
    for (const v of versions) byName.set(v.fileName, (byName.get(v.fileName) ?? 0) + 1);
    for (const [name, n] of byName) if (n !== 1) problems.push(`B2 holds ${n} versions of ${name}`);
    const unfinished = await b2.unfinishedLargeFiles(`backups/${tenantId}/`);
    if (unfinished.length) problems.push(`unfinished B2 large files: ${unfinished.map((f) => f.fileName).join(', ')}`);
  }
  if (problems.length) throw new Error(`stored state of tenant ${tenantId} is wrong:\n  ${problems.join('\n  ')}`);
  return rows;
}

/** Schemas a restore or undo may leave behind when it goes wrong (moved-aside copies aside). */
export async function strayRestoreSchemas(db: Db): Promise<string[]> {
  const res = await db.execute<{ nspname: string }>(sql`select nspname from pg_namespace where nspname like 'strata\_probe\_%' order by 1`);
  return res.rows.map((r) => r.nspname);
}

/** This catalog's scratch databases and job temp dirs present now (a killed job's until the sweep removes them). */
export async function strayLeftovers(db: Db, config: Pick<Config, 'STRATA_TMP_DIR'>): Promise<string[]> {
  return (await leftovers(db, config)).map((l) => `${l.type === 'database' ? 'database' : 'temp dir'} ${l.name}`);
}

/** Named secrets of a Strata environment: DB passwords, AWS/B2 keys, age identities, AUTH_SECRET. */
export function secretsOfEnv(env: Record<string, string | undefined>, extra: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['DATABASE_URL', 'BACKUP_SOURCE_URL', 'STRATA_RESTORE_DATABASE_URL']) {
    const v = env[name];
    if (!v) continue;
    try {
      const pw = decodeURIComponent(new URL(v).password);
      if (pw) out[`${name} password`] = pw;
    } catch {
      /* not a URL */
    }
  }
  // The local S3 server's fixed "secret" equals its access key id, which is no secret at all.
  if (env.AWS_SECRET_ACCESS_KEY && env.AWS_SECRET_ACCESS_KEY !== env.AWS_ACCESS_KEY_ID) out.AWS_SECRET_ACCESS_KEY = env.AWS_SECRET_ACCESS_KEY;
  for (const name of ['B2_APPLICATION_KEY', 'AUTH_SECRET', 'AUTH_OIDC_CLIENT_SECRET']) if (env[name]) out[name] = env[name]!;
  const identity = env.BACKUP_DECRYPTION_IDENTITY_FILE;
  if (identity && fs.existsSync(identity)) {
    for (const m of fs.readFileSync(identity, 'utf8').matchAll(/AGE-SECRET-KEY-1[0-9A-Z]+/g)) {
      out['age identity'] = m[0];
      // Partial leaks count too: the key's body without its prefix.
      out['age identity (body)'] = m[0].slice('AGE-SECRET-KEY-1'.length);
    }
  }
  Object.assign(out, signingKeySecrets(env.STRATA_SIGNING_KEY_FILE));
  for (const [k, v] of Object.entries(extra)) out[k] = v;
  for (const [k, v] of Object.entries(out)) if (v.length < 8) delete out[k];
  return out;
}

/**
 * The forms a leaked Ed25519 signing key (PKCS#8 PEM) would take in a text: the PEM's base64 body, and its
 * 32-byte private seed in base64, base64url and hex.
 */
function signingKeySecrets(file: string | undefined): Record<string, string> {
  if (!file || !fs.existsSync(file)) return {};
  const pem = fs.readFileSync(file, 'utf8');
  const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const seed = crypto.createPrivateKey(pem).export({ format: 'jwk' }).d;
  if (!seed) return {};
  const raw = Buffer.from(seed, 'base64url');
  return {
    'signing key (PEM body)': body,
    'signing key (seed, base64)': raw.toString('base64').replace(/=+$/, ''),
    'signing key (seed, base64url)': seed,
    'signing key (seed, hex)': raw.toString('hex'),
  };
}

/** `where: secret name` for every secret found in any of the texts (case-insensitive for age keys). */
export function leakedSecrets(texts: Record<string, string>, secrets: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [where, text] of Object.entries(texts)) {
    const lower = text.toLowerCase();
    for (const [name, secret] of Object.entries(secrets)) {
      if (text.includes(secret) || lower.includes(secret.toLowerCase())) found.push(`${where}: ${name}`);
    }
  }
  return found;
}

/** Every place a job or an action writes text a person will read: job errors and the audit log. */
export async function catalogTexts(db: Db): Promise<Record<string, string>> {
  const q = async (text: string) => JSON.stringify((await db.execute(sql.raw(text))).rows);
  return {
    'backup_jobs.error_message': await q(`select error_message from backup_jobs where error_message is not null`),
    'restore_jobs.error_message': await q(`select error_message from restore_jobs where error_message is not null`),
    'backup_verifications.error_message': await q(`select error_message, details from backup_verifications`),
    audit_log: await q(`select actor, action, target, details from audit_log`),
  };
}
