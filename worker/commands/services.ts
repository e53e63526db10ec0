// `strata services`: the embedded default in the foreground until Ctrl-C/SIGTERM.
import path from 'node:path';
import { processEnv } from '../../lib/env.ts';
import { startLocalServices, writeEnvFile } from '../../lib/services/local.ts';
import { flags } from '../cli-kit.ts';

export async function servicesCommand(argv: string[]): Promise<void> {
  flags(argv, {});
  const dir = path.resolve('.strata');
  const services = await startLocalServices({ dir, databaseUrl: processEnv().DATABASE_URL || undefined, persistentPostgres: true });
  const envFile = path.join(dir, 'local.env');
  writeEnvFile(envFile, services.env);
  process.stderr.write(
    `Strata local services are running:\n` +
      `  PostgreSQL  ${new URL(services.env.DATABASE_URL!).host}\n` +
      `  S3 (s3rver) ${services.env.S3_ENDPOINT}  bucket ${services.env.S3_BACKUP_BUCKET}\n` +
      `  B2 server   ${services.env.B2_AUTH_URL}  bucket ${services.env.B2_BUCKET_NAME}\n` +
      `Environment written to ${envFile} (load it with: set -a; . ${path.relative(process.cwd(), envFile)}; set +a)\n` +
      `Press Ctrl-C to stop.\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.stderr.write('Stopping…\n');
  await services.stop();
}
