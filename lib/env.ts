// Strata's configuration: every variable of docs/design.md "Environment", validated once.
// Code that needs configuration takes a `Config` argument; only process entry points call `loadConfig()`.
// A CLI command demands only what it uses (`parseConfig(env, ['database'])`: a DBA running
// `strata migrate` needs DATABASE_URL and nothing else); the dashboard and the worker need it all.
import os from 'node:os';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const postgresUrl = z
  .string()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// or postgresql:// URL');
const ageRecipient = /^age1[02-9ac-hj-np-z]{58}$/;

const schema = z.object({
  DATABASE_URL: postgresUrl,
  BACKUP_SOURCE_URL: postgresUrl.optional(),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  // Optional: without them the AWS SDK's standard credential chain (profiles, instance roles …) applies.
  AWS_ACCESS_KEY_ID: z.string().min(1).optional(),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_BACKUP_BUCKET: z.string().min(3).max(63),
  S3_ENDPOINT: z.url().optional(),
  S3_FORCE_PATH_STYLE: bool.default(false),
  S3_CHECKSUM_MODE: z.enum(['when_supported', 'when_required']).default('when_supported'),
  S3_PART_SIZE_MB: int(16, 5),
  B2_PART_SIZE_MB: int(16, 5),
  B2_APPLICATION_KEY_ID: z.string().min(1).optional(),
  B2_APPLICATION_KEY: z.string().min(1).optional(),
  B2_BUCKET_NAME: z.string().min(1).optional(),
  B2_BUCKET_ID: z.string().min(1).optional(),
  B2_AUTH_URL: z.url().default('https://api.backblazeb2.com'),
  /** The application's files bucket (design.md "Tenant files"); unset: the files feature is off. */
  STRATA_FILES_BUCKET: z.string().min(3).max(63).optional(),
  /** A tenant's prefix in it; `{tenant_id}` is replaced. Per tenant: `strata tenant set-files-prefix`. */
  STRATA_FILES_PREFIX: z
    .string()
    .min(1)
    .default('tenants/{tenant_id}/')
    .refine((v) => v.endsWith('/') && !v.startsWith('/'), 'must end with "/" and not start with one, e.g. tenants/{tenant_id}/'),
  /** The files bucket's endpoint, region and credentials; each defaults to the S3 setting Strata already has. */
  STRATA_FILES_ENDPOINT: z.url().optional(),
  STRATA_FILES_REGION: z.string().min(1).optional(),
  STRATA_FILES_FORCE_PATH_STYLE: bool.optional(),
  STRATA_FILES_ACCESS_KEY_ID: z.string().min(1).optional(),
  STRATA_FILES_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  BACKUP_ENCRYPTION_RECIPIENTS: z
    .string()
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .refine((keys) => keys.length > 0, 'must list at least one age public key')
    .refine((keys) => keys.every((k) => ageRecipient.test(k)), 'every entry must be an age X25519 public key (age1…)'),
  BACKUP_DECRYPTION_IDENTITY_FILE: z.string().min(1).optional(),
  /** Ed25519 private key (PEM, PKCS#8) that signs every manifest; only on the workers that take backups. */
  STRATA_SIGNING_KEY_FILE: z.string().min(1).optional(),
  /** Comma-separated Ed25519 public keys (base64 SPKI DER, or paths of PEM files) that a manifest's signature may come from. */
  STRATA_VERIFY_KEYS: z.string().min(1).optional(),
  /** The login role that replays dumps (restore, undo, verify, drills): not a superuser (see README). */
  STRATA_RESTORE_DATABASE_URL: postgresUrl.optional(),
  /** Allows replays as a superuser (without it, a superuser replay role is refused). */
  STRATA_ALLOW_SUPERUSER_RESTORE: bool.default(false),
  STRATA_TIMEZONE: z
    .string()
    .default('UTC')
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'must be an IANA time zone such as Europe/Berlin'),
  STRATA_SCHEDULE_WINDOW_MINUTES: int(120, 1),
  STRATA_RPO_GRACE_HOURS: int(2),
  STRATA_MANUAL_RETENTION_DAYS: int(30, 1),
  STRATA_UNDO_RETENTION_DAYS: int(7, 0),
  STRATA_WORKER_CONCURRENCY: int(2, 1),
  STRATA_MAX_CONCURRENT_DUMPS: int(2, 1),
  /** MB per second that one pg_dump may read from the source (0: no limit), like pg_basebackup --max-rate. */
  STRATA_DUMP_MAX_RATE_MB: int(0),
  STRATA_TMP_DIR: z.string().min(1).default(os.tmpdir()),
  STRATA_TMP_MIN_FREE_MB: int(512),
  STRATA_WEBHOOK_URL: z.url().optional(),
  /** Partial price table (JSON) over lib/cost's list prices, e.g. {"storage_per_gb_month":{"b2_cold":0.005}}. */
  STRATA_PRICES_JSON: z
    .string()
    .refine((v) => {
      try {
        return typeof JSON.parse(v) === 'object';
      } catch {
        return false;
      }
    }, 'must be a JSON object')
    .optional(),
  /** Worker queue: a claimed job's lease; renewed every third of it while the job runs. */
  STRATA_LEASE_SECONDS: int(60, 3),
  /** First retry delay after a lost lease; doubles per attempt (capped at an hour). */
  STRATA_RETRY_BASE_SECONDS: int(30, 0),
  /** On SIGTERM/SIGINT: how long running jobs may finish before they are aborted. */
  STRATA_SHUTDOWN_GRACE_SECONDS: int(30, 0),
  /** Tenants whose newest backup the weekly restore drill verifies. */
  STRATA_DRILL_SAMPLE: int(3, 0),
  /** How often an idle worker looks for due schedules and queued jobs. */
  STRATA_WORKER_POLL_MS: int(1000, 50),
  /** The worker's id in worker_heartbeats and locked_by (default host-pid-random). */
  STRATA_WORKER_ID: z.string().min(1).max(200).optional(),
  /** Reverse proxies in front of the dashboard whose X-Forwarded-For hop is trusted (0: the socket's address). */
  STRATA_TRUSTED_PROXY_HOPS: int(0),
  /** Password checks that may run at once (bcrypt); more sign-ins wait, then are refused. */
  STRATA_SIGNIN_CONCURRENCY: int(4, 1),
  /** Failed sign-in audit rows are deleted after this many days. */
  STRATA_AUDIT_SIGNIN_RETENTION_DAYS: int(90, 1),
  AUTH_SECRET: z.string().min(16).optional(),
  AUTH_URL: z.url().optional(),
  AUTH_TRUST_HOST: bool.optional(),
  AUTH_OIDC_ISSUER: z.url().optional(),
  AUTH_OIDC_CLIENT_ID: z.string().optional(),
  AUTH_OIDC_CLIENT_SECRET: z.string().optional(),
});

export type Env = z.infer<typeof schema>;

export interface Config extends Env {
  /** BACKUP_SOURCE_URL, defaulting to DATABASE_URL. */
  sourceUrl: string;
  b2Configured: boolean;
}

/**
 * What a command uses, each need the variables it makes required: database (DATABASE_URL),
 * stores (S3_BACKUP_BUCKET; B2 stays optional but all-or-nothing), encryption
 * (BACKUP_ENCRYPTION_RECIPIENTS), decryption (BACKUP_DECRYPTION_IDENTITY_FILE). Every other
 * variable is optional or has a default and is validated whenever it is set.
 */
export type Need = 'database' | 'stores' | 'encryption' | 'decryption';
/** The dashboard and the worker: everything but decryption (a worker without an identity fails restores, not its start). */
export const ALL_NEEDS = ['database', 'stores', 'encryption'] as const satisfies readonly Need[];

const REQUIRED_BY: Record<Need, readonly (keyof Env)[]> = {
  database: ['DATABASE_URL'],
  stores: ['S3_BACKUP_BUCKET'],
  encryption: ['BACKUP_ENCRYPTION_RECIPIENTS'],
  decryption: ['BACKUP_DECRYPTION_IDENTITY_FILE'],
};

type NeedOnly = 'S3_BACKUP_BUCKET' | 'BACKUP_ENCRYPTION_RECIPIENTS';
/** A configuration parsed for some needs: the variables of the others may be absent. */
export type BaseConfig = Omit<Config, NeedOnly> & Partial<Pick<Config, NeedOnly>>;
export type ConfigFor<N extends Need> = BaseConfig &
  ('stores' extends N ? Pick<Config, 'S3_BACKUP_BUCKET'> : unknown) &
  ('encryption' extends N ? Pick<Config, 'BACKUP_ENCRYPTION_RECIPIENTS'> : unknown) &
  ('decryption' extends N ? { BACKUP_DECRYPTION_IDENTITY_FILE: string } : unknown);

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

// Everything optional: the needs decide afterwards what must be present.
const lenient = schema.partial({ S3_BACKUP_BUCKET: true, BACKUP_ENCRYPTION_RECIPIENTS: true });

/**
 * Parses the environment for what the caller needs (default: ALL_NEEDS, what the dashboard and
 * the worker use). Empty strings count as unset, like most twelve-factor tools. Every problem —
 * each missing variable the needs require and each invalid one set — is listed in one ConfigError.
 */
export function parseConfig(source: Record<string, string | undefined>): Config;
export function parseConfig<N extends Need>(source: Record<string, string | undefined>, needs: readonly N[]): ConfigFor<N>;
export function parseConfig(source: Record<string, string | undefined>, needs: readonly Need[] = ALL_NEEDS): BaseConfig {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const problems: string[] = [];
  for (const need of needs) {
    for (const name of REQUIRED_BY[need]) if (cleaned[name] === undefined) problems.push(`${name} is required`);
  }
  const result = lenient.safeParse(cleaned);
  if (!result.success) {
    for (const i of result.error.issues) {
      const name = String(i.path[0] ?? '?');
      problems.push(cleaned[name] === undefined ? `${name} is required` : `${name} ${i.message}`);
    }
  }
  const env = result.data;
  const b2Vars = ['B2_APPLICATION_KEY_ID', 'B2_APPLICATION_KEY', 'B2_BUCKET_NAME', 'B2_BUCKET_ID'] as const;
  const b2Set = b2Vars.filter((k) => cleaned[k] !== undefined);
  if (b2Set.length > 0 && b2Set.length < b2Vars.length) {
    problems.push(...b2Vars.filter((k) => cleaned[k] === undefined).map((k) => `${k} is required when any B2_ variable is set`));
  }
  if (problems.length > 0 || !env) throw new ConfigError([...new Set(problems)]);
  return { ...env, sourceUrl: env.BACKUP_SOURCE_URL ?? env.DATABASE_URL, b2Configured: b2Set.length === b2Vars.length };
}

let cached: Config | undefined;

/** The process's configuration (ALL_NEEDS), parsed once; with needs, only what they require. */
export function loadConfig(): Config;
export function loadConfig<N extends Need>(needs: readonly N[]): ConfigFor<N>;
export function loadConfig(needs?: readonly Need[]): BaseConfig {
  if (needs === undefined) {
    cached ??= parseConfig(process.env);
    return cached;
  }
  return parseConfig(process.env, needs);
}

/**
 * The process environment. This module is the only one that reads it (the lint rule forbids
 * `process.env` elsewhere): configuration goes through parseConfig/loadConfig; this raw view is for
 * what a Config does not describe — PATH to find programs, the locale a child program inherits, a
 * child server's environment — and for masking secrets in an error without failing on a partial
 * configuration.
 */
export function processEnv(): NodeJS.ProcessEnv {
  return process.env;
}

/** PATH's directories, in order. */
export function searchPath(): string[] {
  return (process.env.PATH ?? '').split(':').filter(Boolean);
}

/** Reads a dotenv file into the process environment unless DATABASE_URL is already set (the CLI's .strata/local.env). */
export function loadEnvFileUnlessConfigured(defaultFile: string): void {
  if (process.env.DATABASE_URL) return;
  try {
    process.loadEnvFile(process.env.STRATA_ENV_FILE ?? defaultFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Silences the AWS SDK's notice that future releases need Node 22 (package-lock.json pins one that supports Node 20). */
export function quietAwsSdkVersionNotice(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
