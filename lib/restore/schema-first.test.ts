// schemaFirst: the tenant schema and its own grants are replayed before everything else (pure).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TocEntry } from './archive-toc.ts';
import { listText, schemaFirst } from './schema-first.ts';

const entry = (dumpId: number, desc: string, tag: string, deps: number[] = [], namespace: string | null = null): TocEntry => ({
  dumpId, hadDumper: 0, tableoid: null, oid: null, tag, desc, section: 0, defn: null, dropStmt: null, copyStmt: null,
  namespace, tablespace: null, tableam: null, owner: 'o', withOids: null, deps: deps.map(String), dataState: 3, dataOffset: 0n,
});

describe('schemaFirst', () => {
  it('puts the SCHEMA entry and the schema ACL first, every other entry after in archive order', () => {
    const entries = [
      entry(1, 'ENCODING', 'ENCODING'),
      entry(5, 'SCHEMA', 'acme corp'),
      entry(6, 'COMMENT', 'SCHEMA "acme corp"', [5]),
      entry(7, 'TABLE', 'items', [5], 'acme corp'),
      entry(8, 'TABLE DATA', 'items', [7], 'acme corp'),
      entry(9, 'ACL', 'TABLE items', [7], 'acme corp'),
      entry(10, 'ACL', 'SCHEMA "acme corp"', [5]),
      entry(11, 'DEFAULT ACL', 'DEFAULT PRIVILEGES FOR TABLES', [5], 'acme corp'),
    ];
    assert.deepEqual(schemaFirst(entries), { head: [5, 10], tail: [1, 6, 7, 8, 9, 11] });
  });

  it('takes no ACL that is not the schema’s own (a table’s ACL, or a SCHEMA-tagged ACL of no schema in the archive)', () => {
    const entries = [entry(5, 'SCHEMA', 'a'), entry(9, 'ACL', 'SCHEMA b', [4]), entry(10, 'ACL', 'TABLE t', [5], 'a')];
    assert.deepEqual(schemaFirst(entries), { head: [5], tail: [9, 10] });
  });

  it('writes pg_restore -L lists naming the entries in order', () => {
    assert.equal(listText([5, 10]), '5;\n10;\n');
    assert.equal(listText([]), '');
  });
});
