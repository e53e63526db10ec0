// `strata` — the operator's CLI (docs/design.md "CLI"). Each command lives in worker/commands/.
import { closeDb } from '../lib/db/client.ts';
import { loadEnvFileUnlessConfigured } from '../lib/env.ts';
import { CliError, cliErrorOf, EXIT } from './cli-kit.ts';

type Command = (argv: string[]) => Promise<number | void>;

const commands: Record<string, () => Promise<Command>> = {
  migrate: async () => (await import('./commands/migrate.ts')).migrateCommand,
  services: async () => (await import('./commands/services.ts')).servicesCommand,
  tenant: async () => (await import('./commands/tenant.ts')).tenantCommand,
  doctor: async () => (await import('./commands/doctor.ts')).doctorCommand,
  cost: async () => (await import('./commands/cost.ts')).costCommand,
  policy: async () => (await import('./commands/policy.ts')).policyCommand,
  list: async () => (await import('./commands/backups.ts')).listCommand,
  show: async () => (await import('./commands/backups.ts')).showCommand,
  backup: async () => (await import('./commands/jobs.ts')).backupCommand,
  hold: async () => (await import('./commands/jobs.ts')).holdCommand,
  verify: async () => (await import('./commands/jobs.ts')).verifyCommand,
  restore: async () => (await import('./commands/jobs.ts')).restoreCommand,
  prune: async () => (await import('./commands/admin.ts')).pruneCommand,
  catalog: async () => (await import('./commands/admin.ts')).catalogCommand,
  user: async () => (await import('./commands/admin.ts')).userCommand,
  worker: async () => (await import('./commands/admin.ts')).workerCommand,
};

const HELP = `strata — encrypted, verifiable tenant backups to S3 and Backblaze B2

Usage: strata <command> [flags] [--json]

  migrate                         create or update Strata's tables (idempotent)
  doctor                          check binaries, privileges, buckets and keys
  tenant add|set-tier|list|remove manage tenants (the platform tables); add [--files-prefix P]
  tenant set-files-prefix --tenant ID --prefix P|--clear
                                  a tenant's own prefix in the files bucket (else STRATA_FILES_PREFIX)
  backup --tenant ID              back up a tenant [--storage s3_standard|s3_ia|b2_cold] [--incremental] [--include-files] [--wait]
  list --tenant ID                a tenant's backups, newest first
  show --backup ID                one backup
  hold --backup ID --on|--off     legal hold
  verify --backup ID [--wait]     download, check and test-restore a backup
  restore --backup ID --yes       restore (in place, --into-schema NAME, or --target-tenant ID --cross-tenant)
                                  files too: --restore-files [--files-prefix P (a clone's)] [--delete-extra] [--files-only]
  restore undo --restore ID --yes undo the latest restore of a tenant
  prune [--dry-run]               apply retention
  catalog rebuild                 recreate the catalog from the manifests in the buckets
  cost [--month YYYY-MM]          this month's storage cost and savings; cost simulate …
  policy show|set --tier PLAN     a plan's copy layout and backup types; set [--preset seed|cost-optimized] [--incremental ORIGINS|none] [--files ORIGINS|none] [--dry-run] --yes
  user add --email E --role R     dashboard user (password on stdin)
  worker                          run a worker
  services                        run local PostgreSQL, S3 and B2 servers in the foreground

Configuration comes from the environment (see .env.example). When DATABASE_URL is unset and
.strata/local.env exists (written by \`strata services\` and the demo), it is read first.
Exit codes: 0 ok · 1 error · 2 usage or configuration · 3 the awaited job failed · 4 conflict.
A database error is reported by its SQLSTATE, never with the query; STRATA_DEBUG=1 also prints the
query and the server's detail (secrets masked) to stderr.`;


async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${HELP}\n`);
    return name ? EXIT.ok : EXIT.usage;
  }
  const load = commands[name];
  if (!load) throw new CliError(`unknown command "${name}" (strata --help lists them)`, EXIT.usage, 'bad_request');
  if (name !== 'services') loadEnvFileUnlessConfigured('.strata/local.env');
  return (await (await load())(rest)) ?? EXIT.ok;
}

const json = process.argv.includes('--json');
let code: number;
try {
  code = await main(process.argv.slice(2));
} catch (err) {
  const e = err instanceof CliError ? err : cliErrorOf(err);
  if (json) process.stdout.write(`${JSON.stringify({ error: { code: e.code, message: e.message } })}\n`);
  else process.stderr.write(`strata: ${e.message}\n`);
  code = e.exitCode;
}
await closeDb().catch(() => {});
process.exit(code);
