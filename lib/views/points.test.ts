import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backupPoints } from './points.ts';

describe('backupPoints', () => {
  it('groups consecutive copies of one dump group, keeping the order of rows and of points', () => {
    const rows = [
      { id: 'a1', dumpGroup: 'A' },
      { id: 'a2', dumpGroup: 'A' },
      { id: 'b1', dumpGroup: 'B' },
      { id: 'c1', dumpGroup: 'C' },
      { id: 'c2', dumpGroup: 'C' },
      { id: 'c3', dumpGroup: 'C' },
    ];
    assert.deepEqual(
      backupPoints(rows).map((p) => p.map((r) => r.id)),
      [['a1', 'a2'], ['b1'], ['c1', 'c2', 'c3']],
    );
  });

  it('an empty page has no points; a group split by another stays two runs (never reordered)', () => {
    assert.deepEqual(backupPoints([]), []);
    const rows = [{ dumpGroup: 'A' }, { dumpGroup: 'B' }, { dumpGroup: 'A' }];
    assert.deepEqual(backupPoints(rows).map((p) => p.length), [1, 1, 1]);
  });
});
