// The allow-listed environment of spawned programs, and the passfile that carries the password.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { TOOLS } from './system-tools.ts';
import { baseChildEnv, passfileLine, PgConnection, pgConnectionVars } from './child-env.ts';
import { runTool, startTool } from './tool-process.ts';

const SH = { command: 'sh', aptPackage: 'dash' };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-child-env-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('child environment', () => {
  it('parses the connection of a URL, the password apart from the PG* variables', () => {
    assert.deepEqual(pgConnectionVars('postgresql://us%40er:p%40ss%2Fw@db.example:6543/my%20db?sslmode=require'), {
      vars: { PGHOST: 'db.example', PGPORT: '6543', PGUSER: 'us@er', PGDATABASE: 'my db', PGSSLMODE: 'require' },
      password: 'p@ss/w',
    });
    assert.deepEqual(pgConnectionVars('postgres://u@[::1]/d?host=/run/postgresql&password=q'), {
      vars: { PGHOST: '/run/postgresql', PGUSER: 'u', PGDATABASE: 'd' },
      password: 'q',
    });
    assert.equal(passfileLine('a:b\\c', 'p:w\\'), '*:*:*:a\\:b\\\\c:p\\:w\\\\\n');
    assert.equal(passfileLine(undefined, 'x'), '*:*:*:*:x\n');
  });

  it('inherits only PATH, HOME, LANG, LC_* and TZ', () => {
    const env = baseChildEnv({ PATH: '/bin', HOME: '/h', LANG: 'C.UTF-8', LC_ALL: 'C', TZ: 'UTC', PGPASSWORD: 'x', AUTH_SECRET: 'y', DATABASE_URL: 'z', AWS_SECRET_ACCESS_KEY: 'k' });
    assert.deepEqual(env, { PATH: '/bin', HOME: '/h', LANG: 'C.UTF-8', LC_ALL: 'C', TZ: 'UTC' });
  });

  it('a program sees none of our secrets; a PostgreSQL program gets its PG* variables and a 0600 passfile, removed at exit', async () => {
    process.env.STRATA_TEST_CANARY_SECRET = 'canary-7f3a';
    try {
      const plain = await runTool(SH, ['-c', 'env']);
      assert.doesNotMatch(plain, /canary-7f3a|STRATA_TEST_CANARY_SECRET|^PG/m);
      assert.match(plain, /^PATH=/m);

      const connection = PgConnection.fromUrl('postgresql://alice:s3cr%3At@db.example:5433/app', { appName: 'strata-test', dir });
      // A PostgreSQL program's stand-in: sh, marked as one, prints its environment and passfile.
      const tool = startTool({ ...SH, connects: true }, ['-c', 'env; echo ---; stat -c %a "$PGPASSFILE"; cat "$PGPASSFILE"; sleep 0.2'], { connection });
      const chunks: Buffer[] = [];
      tool.stdout.on('data', (b: Buffer) => chunks.push(b));
      await tool.exited;
      const out = Buffer.concat(chunks).toString();
      const [env, passfile] = out.split('---\n') as [string, string];
      assert.match(env, /^PGHOST=db\.example$/m);
      assert.match(env, /^PGUSER=alice$/m);
      assert.match(env, /^PGAPPNAME=strata-test$/m);
      assert.doesNotMatch(env, /s3cr|PGPASSWORD|canary-7f3a/);
      const file = /^PGPASSFILE=(.*)$/m.exec(env)![1]!;
      assert.equal(path.dirname(file), dir);
      assert.equal(passfile, '600\n*:*:*:alice:s3cr\\:t\n');
      assert.equal(fs.existsSync(file), false, 'the passfile is gone once the program exited');
      assert.deepEqual(fs.readdirSync(dir), []);
    } finally {
      delete process.env.STRATA_TEST_CANARY_SECRET;
    }
  });

  it('never gives a connection to zstd or age', () => {
    const connection = PgConnection.fromUrl('postgresql://a:b@h/d', { appName: 'x', dir });
    assert.throws(() => startTool(TOOLS.zstd, ['-V'], { connection }), /does not connect to PostgreSQL/);
    assert.throws(() => startTool(TOOLS.age, ['--version'], { connection }), /does not connect to PostgreSQL/);
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});
