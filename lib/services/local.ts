// The embedded default: PostgreSQL (unless DATABASE_URL is given), s3rver and Strata's B2 server,
// plus a demo age key pair and manifest-signing key pair — everything docs/design.md "Environment" needs to reach them.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startB2Server } from '../b2server/index.ts';
import { ensureAgeKeyPair } from './age-keys.ts';
import { persistentClusterDir, startPostgres } from './postgres.ts';
import { provisionReplayRole } from './replay-role.ts';
import { ensureSigningKeyPair } from './signing-keys.ts';
import { startS3Server } from './s3.ts';
import { ensureTools, TOOLS } from '../process/system-tools.ts';

export const LOCAL_S3_BUCKET = 'strata-backups';
/** The local stand-in for the application's files bucket (design.md "Tenant files"). */
export const LOCAL_FILES_BUCKET = 'saas-files';
export const LOCAL_B2_BUCKET = 'strata-cold';

export interface LocalServices {
  env: Record<string, string>;
  /** The PostgreSQL superuser URL when Strata started the cluster itself. */
  adminUrl?: (database: string) => string;
  stop(): Promise<void>;
}

export interface LocalServicesOptions {
  /** State directory (`.strata` for the demo; a temp dir for tests). */
  dir: string;
  /** Use this database instead of starting a cluster. */
  databaseUrl?: string;
  /** Keep the PostgreSQL cluster between runs (demo). Default: a fresh one inside dir's temp twin. */
  persistentPostgres?: boolean;
  log?: (msg: string) => void;
}

function secretFile(file: string): string {
  if (!fs.existsSync(file)) fs.writeFileSync(file, crypto.randomBytes(24).toString('base64url'), { mode: 0o600 });
  return fs.readFileSync(file, 'utf8').trim();
}

export async function startLocalServices(opts: LocalServicesOptions): Promise<LocalServices> {
  const dir = path.resolve(opts.dir);
  fs.mkdirSync(dir, { recursive: true });
  ensureTools([TOOLS.zstd, TOOLS.age, TOOLS.ageKeygen, TOOLS.pgDump, TOOLS.pgRestore, TOOLS.psql, ...(opts.databaseUrl ? [] : [TOOLS.postgres])]);
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };
  try {
    let databaseUrl = opts.databaseUrl;
    let adminUrl: LocalServices['adminUrl'];
    let restoreUrl: string | undefined;
    if (!databaseUrl) {
      // In dir (`.strata/postgres`), or bound to it when the postgres OS user cannot reach it (lib/services/postgres.ts).
      const pgDir = opts.persistentPostgres ? persistentClusterDir(dir) : undefined;
      const pg = await startPostgres({ dir: pgDir });
      stops.push(pg.stop);
      databaseUrl = pg.url;
      adminUrl = pg.adminUrl;
      // Replays run as a role that is not a superuser (lib/services/replay-role.ts), like in production.
      restoreUrl = await provisionReplayRole(pg.adminUrl('postgres'), {
        role: 'strata_restore',
        password: secretFile(path.join(dir, 'restore-role-password')),
        database: new URL(pg.url).pathname.slice(1),
      });
    }
    const s3 = await startS3Server({ dir: path.join(dir, 's3'), buckets: [LOCAL_S3_BUCKET, LOCAL_FILES_BUCKET] });
    stops.push(s3.stop);
    const b2KeyId = 'strata-local';
    const b2Key = secretFile(path.join(dir, 'b2-application-key'));
    const b2 = await startB2Server({ dir: path.join(dir, 'b2'), keyId: b2KeyId, key: b2Key, buckets: [LOCAL_B2_BUCKET] });
    stops.push(b2.stop);
    const age = ensureAgeKeyPair(path.join(dir, 'age'));
    // Manifest signing (issue 13): the workers sign with the private key, restores verify with the public one.
    const signing = ensureSigningKeyPair(path.join(dir, 'signing'));
    const env: Record<string, string> = {
      DATABASE_URL: databaseUrl,
      ...(restoreUrl ? { STRATA_RESTORE_DATABASE_URL: restoreUrl } : {}),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      S3_BACKUP_BUCKET: LOCAL_S3_BUCKET,
      S3_ENDPOINT: s3.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      S3_CHECKSUM_MODE: 'when_required',
      STRATA_FILES_BUCKET: LOCAL_FILES_BUCKET,
      B2_APPLICATION_KEY_ID: b2KeyId,
      B2_APPLICATION_KEY: b2Key,
      B2_BUCKET_NAME: LOCAL_B2_BUCKET,
      B2_BUCKET_ID: b2.bucketIds[LOCAL_B2_BUCKET]!,
      B2_AUTH_URL: b2.url,
      BACKUP_ENCRYPTION_RECIPIENTS: age.recipient,
      BACKUP_DECRYPTION_IDENTITY_FILE: age.identityFile,
      STRATA_SIGNING_KEY_FILE: signing.keyFile,
      STRATA_VERIFY_KEYS: signing.publicKeyBase64,
      STRATA_TMP_DIR: path.join(dir, 'tmp'),
      AUTH_SECRET: secretFile(path.join(dir, 'auth-secret')),
      AUTH_TRUST_HOST: 'true',
    };
    fs.mkdirSync(env.STRATA_TMP_DIR!, { recursive: true });
    return { env, adminUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** `.strata/local.env`: KEY=value lines, readable by `set -a; . .strata/local.env` and dotenv. */
export function writeEnvFile(file: string, env: Record<string, string>): void {
  const lines = Object.entries(env).map(([k, v]) => `${k}=${/^[\w@%+=:,./-]*$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`}`);
  fs.writeFileSync(file, `# written by strata services; every variable is described in .env.example\n${lines.join('\n')}\n`, { mode: 0o600 });
}
