import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasRestrictFix, parseClientVersion, restrictFixedRelease } from './restrict-fix.ts';

describe('CVE-2025-8714 (\\restrict) client versions', () => {
  it('reads the version psql and pg_restore print', () => {
    assert.deepEqual(parseClientVersion('psql (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)'), { major: 15, minor: 18 });
    assert.deepEqual(parseClientVersion('pg_restore (PostgreSQL) 17.6'), { major: 17, minor: 6 });
    assert.deepEqual(parseClientVersion('pg_restore (PostgreSQL) 18beta1'), { major: 18, minor: 0 });
    assert.equal(parseClientVersion('bash: psql: command not found'), null);
  });

  it('accepts exactly the fixed releases and later, per major', () => {
    const cases: [string, boolean][] = [
      ['17.5', false], ['17.6', true], ['17.10', true],
      ['16.9', false], ['16.10', true],
      ['15.13', false], ['15.14', true], ['15.18', true],
      ['14.18', false], ['14.19', true],
      ['13.21', false], ['13.22', true],
      ['12.22', false], ['9.6.24', false],
      ['18.0', true], ['19.1', true],
    ];
    for (const [version, fixed] of cases) assert.equal(hasRestrictFix(`psql (PostgreSQL) ${version}`), fixed, version);
    assert.equal(hasRestrictFix('not a version'), null);
  });

  it('names the release to upgrade to', () => {
    assert.equal(restrictFixedRelease(16), '16.10');
    assert.equal(restrictFixedRelease(12), '17.6 or later (a supported major)');
  });
});
