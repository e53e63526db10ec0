// What `ps` and /proc show of the programs a backup and a restore spawn: no secret in any argv, none in
// any environment (S3/B2 keys, AUTH_SECRET, the OIDC secret, database passwords and URLs), the password
// only in a 0600 passfile inside the job's temp dir that is gone once the job is. Two cases of the
// reliability suite (harness.ts runCase; the README's Reliability table).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig, type Config } from '../env.ts';
import { addTinyTenants } from '../jobs/test-support.ts';
import { createRestore } from '../restore/create.ts';
import { runRestore } from '../restore/run-restore.ts';
import { createStores } from '../storage/registry.ts';
import { createTestBackup } from '../testing/fixture-backup.ts';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import { runCase } from './harness.ts';

interface Seen {
  pid: number;
  argv: string[];
  env: Record<string, string>;
  /** Mode of PGPASSFILE while the program ran (octal), when it had one. */
  passfileMode?: string;
}

const STRATA_PROGRAMS = new Set(['pg_dump', 'pg_restore', 'psql', 'zstd', 'age']);

/** Samples this process's children from /proc until stopped. */
function watchChildren(): { stop(): Map<number, Seen> } {
  const seen = new Map<number, Seen>();
  // Our children, from each thread's /proc/self/task/<tid>/children (cheap: the job keeps its pace).
  const children = () =>
    fs.readdirSync('/proc/self/task').flatMap((tid) => {
      try {
        return fs.readFileSync(`/proc/self/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
      } catch {
        return [];
      }
    });
  const sample = () => {
    for (const pid of children()) {
      try {
        const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
        const env = Object.fromEntries(
          fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
        );
        // Strata's programs only (tsx keeps an esbuild child of its own); not yet exec'd: nothing to learn.
        if (argv.length === 0 || !STRATA_PROGRAMS.has(path.basename(argv[0]!))) continue;
        const s: Seen = seen.get(pid) ?? { pid, argv, env };
        s.argv = argv;
        s.env = env;
        if (env.PGPASSFILE && fs.existsSync(env.PGPASSFILE)) s.passfileMode = (fs.statSync(env.PGPASSFILE).mode & 0o777).toString(8);
        seen.set(pid, s);
      } catch {
        // exited meanwhile
      }
    }
  };
  const timer = setInterval(sample, 2);
  return {
    stop() {
      clearInterval(timer);
      return seen;
    },
  };
}

const program = (s: Seen) => path.basename(s.argv[0]!);

describe('secrets never reach a spawned program', () => {
  let stack: TestStack;
  let config: Config;
  const planted: Record<string, string> = {
    AUTH_SECRET: 'auth-secret-c4n4ry-0123456789abcdef',
    AUTH_OIDC_ISSUER: 'https://issuer.example',
    AUTH_OIDC_CLIENT_ID: 'strata',
    AUTH_OIDC_CLIENT_SECRET: 'oidc-secret-c4n4ry-9876',
  };
  let secrets: string[];

  before(async () => {
    stack = await startTestStack(planted);
    config = stack.config;
    // Our own environment holds them all, as a worker's does: a child inheriting it would show them.
    Object.assign(process.env, stack.env, { PGPASSWORD: 'pgpassword-c4n4ry' });
    const passwords = [config.DATABASE_URL, config.STRATA_RESTORE_DATABASE_URL!].map((u) => decodeURIComponent(new URL(u).password));
    secrets = [
      config.AWS_SECRET_ACCESS_KEY!,
      config.B2_APPLICATION_KEY!,
      planted.AUTH_SECRET!,
      planted.AUTH_OIDC_CLIENT_SECRET!,
      'pgpassword-c4n4ry',
      ...passwords,
      // The signing key's PEM body: the workers hold it, no child program needs it.
      fs.readFileSync(config.STRATA_SIGNING_KEY_FILE!, 'utf8').replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''),
    ];
    assert.ok(secrets.every((s) => s.length >= 6), 'every secret is long enough to be recognized');
    await addTinyTenants(stack.db, ['cs'], { plan: 'basic', rows: 8000, rowBytes: 1024 });
  });
  after(async () => {
    await stack?.stop();
  });

  function assertClean(seen: Map<number, Seen>, expected: string[]) {
    const programs = new Set([...seen.values()].map(program));
    for (const name of expected) assert.ok(programs.has(name), `${name} was sampled (saw ${[...programs].join(', ')})`);
    for (const s of seen.values()) {
      const argv = s.argv.join(' ');
      const env = Object.entries(s.env).map(([k, v]) => `${k}=${v}`).join('\n');
      for (const secret of secrets) {
        assert.ok(!argv.includes(secret), `${program(s)}'s argv holds a secret: ${argv}`);
        assert.ok(!env.includes(secret), `${program(s)}'s environment holds a secret`);
      }
      assert.doesNotMatch(argv, /postgres(ql)?:\/\//, `${program(s)}'s argv holds a database URL`);
      assert.doesNotMatch(env, /postgres(ql)?:\/\//, `${program(s)}'s environment holds a database URL`);
      const names = Object.keys(s.env);
      const allowed = names.filter((k) => ['PATH', 'HOME', 'LANG', 'TZ'].includes(k) || k.startsWith('LC_') || k.startsWith('PG'));
      assert.deepEqual(names, allowed, `${program(s)} inherited only the allow-list`);
      const connects = ['pg_dump', 'pg_restore', 'psql'].includes(program(s));
      if (!connects) assert.ok(!names.some((k) => k.startsWith('PG')), `${program(s)} got no PG* variable`);
      assert.ok(!('PGPASSWORD' in s.env), `${program(s)} got no PGPASSWORD`);
      if (s.env.PGPASSFILE) {
        assert.ok(s.env.PGPASSFILE.startsWith(path.resolve(config.STRATA_TMP_DIR) + path.sep), `the passfile ${s.env.PGPASSFILE} is in STRATA_TMP_DIR`);
        if (s.passfileMode) assert.equal(s.passfileMode, '600');
        assert.equal(fs.existsSync(s.env.PGPASSFILE), false, `${s.env.PGPASSFILE} is gone after the job`);
      }
    }
    const passfiles = [...seen.values()].filter((s) => s.passfileMode);
    assert.ok(passfiles.length > 0, 'a passfile was seen while a program ran');
    assert.deepEqual(fs.readdirSync(config.STRATA_TMP_DIR), [], 'the job left nothing in STRATA_TMP_DIR');
  }

  it('backup: pg_dump, zstd and age', async () => {
    await runCase('Secrets in the argv and environment of programs a backup spawns', 'abuse', async () => {
      const watch = watchChildren();
      let seen: Map<number, Seen>;
      let backupId: string;
      try {
        backupId = (await createTestBackup({ db: stack.db, config, stores: createStores(config) }, 'cs')).id;
      } finally {
        seen = watch.stop();
      }
      assert.ok(backupId);
      assertClean(seen, ['pg_dump', 'zstd', 'age']);
      return 'pg_dump, zstd, age sampled from /proc: argv and environment clean, passfile 0600 and removed';
    });
  });

  it('restore in place: age, zstd, pg_restore and psql', async () => {
    await runCase('Secrets in the argv and environment of programs a restore spawns', 'abuse', async () => {
      const backup = await createTestBackup({ db: stack.db, config: parseConfig(stack.env), stores: createStores(config) }, 'cs');
      const restore = await createRestore(stack.db, { backupId: backup.id, mode: 'in_place', requestedBy: 'test' });
      const watch = watchChildren();
      let seen: Map<number, Seen>;
      try {
        const done = await runRestore({ db: stack.db, config, stores: createStores(config) }, restore.id);
        assert.equal(done.status, 'completed');
      } finally {
        seen = watch.stop();
      }
      assertClean(seen, ['age', 'zstd', 'pg_restore', 'psql']);
      return 'age, zstd, pg_restore, psql sampled from /proc: argv and environment clean, passfile 0600 and removed';
    });
  });
});
