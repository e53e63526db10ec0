// The measured node process: one backup group, one restore, or the seed's approach, run apart from the
// bench (which hosts the B2 server and samples /proc) so that its RSS and CPU time are its own — the
// way a worker runs them. Configuration from the environment, like worker/worker-main.ts.
// Started like a worker, from a bundle (bench/harness.ts → worker/launch.ts workerNodeArgs):
//   node --max-semi-space-size=1 .strata/build/child-<hash>.mjs backup <dump_group>
//                                                           … restore <restore_id>
//                                                           … seed <schema> <key>
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { lowerOwnPriority } from '../lib/process/priority.ts';
import { runBackupGroup } from '../lib/backup/run-backup.ts';
import { PgConnection } from '../lib/process/child-env.ts';
import { exactSchemaPattern } from '../lib/backup/dump.ts';
import { closeDb, getDb } from '../lib/db/client.ts';
import { parseConfig, type Config } from '../lib/env.ts';
import { runRestore } from '../lib/restore/run-restore.ts';
import { toolCommand } from '../lib/process/tool-process.ts';
import { TOOLS } from '../lib/process/system-tools.ts';
import { createStores } from '../lib/storage/registry.ts';

/** The seed: `pg_dump -n <schema> | gzip` read whole into memory, then one PUT. */
async function seedBackup(config: Config, schema: string, key: string): Promise<{ storedBytes: number }> {
  const pgChild = PgConnection.fromUrl(config.sourceUrl, { appName: 'strata-bench', dir: config.STRATA_TMP_DIR }).prepare();
  const dump = spawn(toolCommand(TOOLS.pgDump), ['--strict-names', '-n', exactSchemaPattern(schema)], {
    env: pgChild.env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  dump.once('close', pgChild.remove);
  const gzip = spawn('gzip', ['-c'], { stdio: [dump.stdout, 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  gzip.stdout.on('data', (b: Buffer) => chunks.push(b));
  // pg_dump's stdout belongs to gzip: wait for its exit, and for gzip's output to close.
  const exit = (p: ReturnType<typeof spawn>, name: string, event: 'exit' | 'close') =>
    new Promise<void>((resolve, reject) => p.on(event, (code) => (code === 0 ? resolve() : reject(new Error(`${name} exited with ${code}`)))));
  await Promise.all([exit(dump, 'pg_dump', 'exit'), exit(gzip, 'gzip', 'close')]);
  const body = Buffer.concat(chunks);
  chunks.length = 0;
  const s3 = new S3Client({
    endpoint: config.S3_ENDPOINT,
    region: config.AWS_REGION,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    credentials: { accessKeyId: config.AWS_ACCESS_KEY_ID!, secretAccessKey: config.AWS_SECRET_ACCESS_KEY! },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await s3.send(new PutObjectCommand({ Bucket: config.S3_BACKUP_BUCKET, Key: key, Body: body }));
  s3.destroy();
  return { storedBytes: body.length };
}

const [mode, arg, arg2] = process.argv.slice(2);
// Like a worker (worker/worker-main.ts): background priority.
lowerOwnPriority();
const config = parseConfig(process.env);
// Resident memory once every module is loaded (the SDKs, Drizzle, pg): what the run adds is above it.
const rssBeforeMb = Number(/^VmRSS:\s*(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;
const started = performance.now();
const startedAt = Date.now();
let extra: Record<string, unknown> = {};
try {
  if (mode === 'backup') {
    // The file part's own account (objects and bytes read from the files bucket), for item 11.
    const log = (message: string, fields?: Record<string, unknown>) => {
      if (message === 'backup files stored') extra = { ...extra, files: fields };
    };
    await runBackupGroup({ db: getDb(config.DATABASE_URL), config, stores: createStores(config), log }, arg!);
  } else if (mode === 'restore') {
    const row = await runRestore({ db: getDb(config.DATABASE_URL), config, stores: createStores(config) }, arg!);
    extra = { status: row.status, movedAside: row.movedAsideSchema };
  } else if (mode === 'seed') {
    extra = await seedBackup(config, arg!, arg2!);
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
} finally {
  await closeDb();
}
process.stdout.write(`${JSON.stringify({ seconds: (performance.now() - started) / 1000, startedAt, endedAt: Date.now(), rssBeforeMb, ...extra })}\n`);
