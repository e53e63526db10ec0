// replayGroups / dataGroups: independent groups of archive entries for the staged restore (pure).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TocEntry } from './archive-toc.ts';
import { dataGroups, replayGroups } from './parallel-groups.ts';

const PRE = 2;
const DATA = 3;
const POST = 4;
const entry = (dumpId: number, desc: string, deps: number[] = [], section = PRE): TocEntry => ({
  dumpId, hadDumper: 0, tableoid: null, oid: null, tag: `${desc} ${dumpId}`, desc, section, defn: null, dropStmt: null, copyStmt: null,
  namespace: 's', tablespace: null, tableam: null, owner: 'o', withOids: null, deps: deps.map(String), dataState: 3, dataOffset: 0n,
});

/** n tables (id 10k+1), each with a sequence (10k+2) owned by it (10k+3), its data (10k+4), sequence value (10k+5), primary key (10k+6) and index (10k+7). */
function tables(n: number): TocEntry[] {
  const pre: TocEntry[] = [];
  const rest: TocEntry[] = [];
  for (let k = 1; k <= n; k++) {
    const t = 10 * k;
    pre.push(entry(t + 1, 'TABLE', [1]), entry(t + 2, 'SEQUENCE', [1]), entry(t + 3, 'SEQUENCE OWNED BY', [t + 2, t + 1]));
    rest.push(
      entry(t + 4, 'TABLE DATA', [t + 1], DATA),
      entry(t + 5, 'SEQUENCE SET', [t + 2], DATA),
      entry(t + 6, 'CONSTRAINT', [t + 1], POST),
      entry(t + 7, 'INDEX', [t + 1], POST),
    );
  }
  return [entry(1, 'SCHEMA'), ...pre, ...rest];
}
const restOf = (entries: TocEntry[]) => entries.filter((e) => e.section !== PRE).map((e) => e.dumpId);
const groupOf = (groups: number[][], id: number) => groups.findIndex((g) => g.includes(id));

describe('dataGroups', () => {
  it('puts a table’s data, keys and indexes in one group, and every entry in a group or after', () => {
    const all = tables(4);
    const { groups, after } = dataGroups(all, restOf(all), 1000, 2);
    assert.equal(groups.length, 2);
    assert.deepEqual(after, []);
    for (let k = 1; k <= 4; k++) {
      const g = groupOf(groups, 10 * k + 4);
      assert.equal(groupOf(groups, 10 * k + 6), g);
      assert.equal(groupOf(groups, 10 * k + 7), g);
    }
    assert.deepEqual([...groups.flat(), ...after].sort((a, b) => a - b), restOf(all).sort((a, b) => a - b));
    for (const g of groups) assert.deepEqual(g, [...g].sort((a, b) => restOf(all).indexOf(a) - restOf(all).indexOf(b)), 'archive order');
  });

  it('leaves foreign keys, materialized view data and what depends on them for after', () => {
    const all = tables(2);
    const mv = entry(3, 'MATERIALIZED VIEW', [11, 21]);
    const extra = [
      entry(90, 'FK CONSTRAINT', [21, 16], POST),
      entry(91, 'COMMENT', [90], POST),
      entry(92, 'MATERIALIZED VIEW DATA', [3], POST),
      entry(93, 'INDEX', [3], POST),
      entry(94, 'ACL', [4], POST),
    ];
    const withExtra = [...all, mv, entry(4, 'FUNCTION', [1]), ...extra];
    const { groups, after } = dataGroups(withExtra, restOf(withExtra), 1000, 2);
    assert.deepEqual(after, [90, 91, 92, 94], 'the foreign key, its comment, the view’s data, a function’s grant');
    assert.ok(groupOf(groups, 93) >= 0, 'an index on the materialized view is its own');
  });

  it('keeps a partitioned table’s index with its partitions’ data', () => {
    const parent = entry(2, 'TABLE', [1]);
    const child = entry(3, 'TABLE', [1, 2]);
    const other = entry(5, 'TABLE', [1]);
    const all = [
      entry(1, 'SCHEMA'), parent, child, other,
      entry(6, 'TABLE DATA', [3], DATA), entry(7, 'TABLE DATA', [5], DATA),
      entry(8, 'INDEX', [2], POST), entry(9, 'INDEX', [3], POST), entry(10, 'INDEX ATTACH', [8, 9], POST),
    ];
    const { groups } = dataGroups(all, restOf(all), 1000, 2);
    const g = groupOf(groups, 6);
    assert.deepEqual([groupOf(groups, 8), groupOf(groups, 9), groupOf(groups, 10)], [g, g, g]);
    assert.notEqual(groupOf(groups, 7), g);
  });

  it('leaves a set larger than a group’s lock share for after, and keeps every group within it', () => {
    const all = tables(6);
    // Table k = 1 gets 10 more indexes: 3 + 1 + 10 + 1 locks.
    const more = Array.from({ length: 10 }, (_, i) => entry(1000 + i, 'INDEX', [11], POST));
    const withMore = [...all, ...more];
    const { groups, after } = dataGroups(withMore, restOf(withMore), 10, 2);
    assert.deepEqual(after.sort((a, b) => a - b), [14, 16, 17, ...more.map((e) => e.dumpId)]);
    for (const g of groups) {
      const locks = g.reduce((n, id) => n + (id % 10 === 4 ? 3 : id % 10 === 5 ? 1 : 1), 0);
      assert.ok(locks <= 10, `group ${g.join(',')} takes ${locks} locks`);
    }
  });
});

describe('replayGroups', () => {
  const definitionsOf = (all: TocEntry[]) => all.filter((e) => e.section === PRE && e.desc !== 'SCHEMA').map((e) => e.dumpId);

  it('puts a table’s definition, data, keys and indexes in one group, each group in archive order', () => {
    const all = tables(4);
    const split = replayGroups(all, definitionsOf(all), restOf(all), 1000, 2);
    assert.ok(split);
    assert.equal(split.groups.length, 2);
    assert.deepEqual(split.after, []);
    for (let k = 1; k <= 4; k++) {
      const g = groupOf(split.groups, 10 * k + 1);
      for (let j = 2; j <= 7; j++) assert.equal(groupOf(split.groups, 10 * k + j), g, `entry ${10 * k + j} with its table`);
    }
    assert.notEqual(groupOf(split.groups, 11), groupOf(split.groups, 21), 'independent tables spread over the groups');
    const order = all.map((e) => e.dumpId);
    for (const g of split.groups) assert.deepEqual(g, [...g].sort((a, b) => order.indexOf(a) - order.indexOf(b)), 'archive order: definitions before data');
    assert.deepEqual([...split.groups.flat()].sort((a, b) => a - b), [...definitionsOf(all), ...restOf(all)].sort((a, b) => a - b), 'every entry once');
  });

  it('leaves foreign keys for after', () => {
    const all = [...tables(2), entry(90, 'FK CONSTRAINT', [21, 16], POST)];
    assert.deepEqual(replayGroups(all, definitionsOf(all), restOf(all), 1000, 2)?.after, [90]);
  });

  it('replays first the types and functions that depend on no table, so a trigger function every table runs does not link them', () => {
    const base = tables(6);
    const type = entry(2, 'TYPE', [1]);
    const fn = entry(3, 'FUNCTION', [1, 2]);
    // A function over a table's row type depends on the table: it stays with it.
    const rowFn = entry(4, 'FUNCTION', [1, 11]);
    const triggers = Array.from({ length: 6 }, (_, i) => entry(2000 + i, 'TRIGGER', [10 * (i + 1) + 1, 3], POST));
    const all = [base[0]!, type, fn, rowFn, ...base.slice(1), ...triggers];
    const split = replayGroups(all, definitionsOf(all), restOf(all), 12, 2);
    assert.ok(split);
    assert.deepEqual(split.first, [2, 3], 'the type and the function it uses, in archive order');
    assert.ok(split.groups.length >= 2, `${split.groups.length} groups`);
    assert.equal(groupOf(split.groups, 4), groupOf(split.groups, 11));
    for (let k = 1; k <= 6; k++) assert.equal(groupOf(split.groups, 2000 + k - 1), groupOf(split.groups, 10 * k + 1), 'a trigger with its table');
  });

  it('leaves for after a policy that reads another table, and what depends on it, instead of linking the tables', () => {
    const base = tables(6);
    const policies = Array.from({ length: 6 }, (_, i) => entry(3000 + i, 'POLICY', [10 * (i + 1) + 1, 11], POST));
    const comment = entry(3100, 'COMMENT', [3005], POST);
    const all = [...base, ...policies, comment];
    const split = replayGroups(all, definitionsOf(all), restOf(all), 12, 2);
    assert.ok(split);
    assert.ok(split.groups.length >= 2, `${split.groups.length} groups`);
    assert.deepEqual(split.after, [3001, 3002, 3003, 3004, 3005, 3100], 'every policy but table 1’s own, and the comment on one of them');
    assert.equal(groupOf(split.groups, 3000), groupOf(split.groups, 11));
  });

  it('gives up (null) when one linked set needs more than a group may take: a view over every table', () => {
    const base = tables(6);
    const view = entry(2, 'VIEW', [1, ...Array.from({ length: 6 }, (_, i) => 10 * (i + 1) + 1)]);
    const all = [base[0]!, ...base.slice(1), view];
    assert.equal(replayGroups(all, definitionsOf(all), restOf(all), 12, 2), null);
    assert.equal(replayGroups(all, definitionsOf(all), restOf(all), 1000, 2)?.groups.length, 1, 'one group when it fits');
  });
});
