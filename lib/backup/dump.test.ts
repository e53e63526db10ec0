import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exactSchemaPattern, pgConnectionEnv, pgDumpArgs } from './dump.ts';

describe('pg_dump invocation', () => {
  it('passes the schema as one exact, quoted pattern', () => {
    assert.deepEqual(pgDumpArgs('acme'), ['-Fc', '-Z0', '--strict-names', '-n', '"acme"']);
    assert.equal(exactSchemaPattern('a*'), '"a*"');
    assert.equal(exactSchemaPattern('we"ird'), '"we""ird"');
    assert.equal(exactSchemaPattern('$(rm -rf /); `x`'), '"$(rm -rf /); `x`"');
  });

  it('connects through PG* variables parsed from the URL, never argv', () => {
    assert.deepEqual(pgConnectionEnv('postgresql://us%40er:p%40ss%2Fw@db.example:6543/my%20db?sslmode=require'), {
      PGHOST: 'db.example',
      PGPORT: '6543',
      PGUSER: 'us@er',
      PGPASSWORD: 'p@ss/w',
      PGDATABASE: 'my db',
      PGSSLMODE: 'require',
    });
    assert.deepEqual(pgConnectionEnv('postgres://u@[::1]/d?host=/run/postgresql'), { PGHOST: '/run/postgresql', PGUSER: 'u', PGDATABASE: 'd' });
    assert.ok(pgDumpArgs('x').every((a) => !a.includes('postgres')));
  });
});
