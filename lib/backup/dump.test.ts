import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exactSchemaPattern, pgDumpArgs } from './dump.ts';

describe('pg_dump invocation', () => {
  it('passes the schema as one exact, quoted pattern', () => {
    assert.deepEqual(pgDumpArgs('acme'), ['-Fc', '-Z0', '--strict-names', '-n', '"acme"']);
    assert.equal(exactSchemaPattern('a*'), '"a*"');
    assert.equal(exactSchemaPattern('we"ird'), '"we""ird"');
    assert.equal(exactSchemaPattern('$(rm -rf /); `x`'), '"$(rm -rf /); `x`"');
    assert.ok(pgDumpArgs('x').every((a) => !a.includes('postgres')));
  });
});
