// The archive rewrite of lib/restore/schema-rename.ts on the SQL pg_dump writes: what it renames,
// what it leaves as text, and what it declines (it must never rename a qualifier that is not the schema).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TocEntry } from './archive-toc.ts';
import { NotRenameableError, renameArchiveEntries, TextSelfReferenceError } from './schema-rename.ts';

const entry = (desc: string, defn: string, extra: Partial<TocEntry> = {}): TocEntry => ({
  dumpId: 1,
  hadDumper: 0,
  tableoid: '0',
  oid: '0',
  tag: 't',
  desc,
  section: 2,
  defn,
  dropStmt: null,
  copyStmt: null,
  namespace: 'acme',
  tablespace: '',
  tableam: '',
  owner: 'postgres',
  withOids: 'false',
  deps: [],
  dataState: 3,
  dataOffset: 0n,
  ...extra,
});
const STD = entry('STDSTRINGS', "SET standard_conforming_strings = 'on';\n", { namespace: null, tag: 'STDSTRINGS' });
const rename = (e: TocEntry[], from = 'acme', to = 'stage') => renameArchiveEntries([STD, ...e], from, to).slice(1);

describe('schema rename of archive entries', () => {
  it('renames qualified names, the schema after SCHEMA, reg* constants and setval targets', () => {
    const [schema, table, def, seq, grant, dacl] = rename([
      entry('SCHEMA', 'CREATE SCHEMA acme;\n', { tag: 'acme', namespace: null }),
      entry('TABLE', 'CREATE TABLE acme.t (\n    id integer NOT NULL,\n    note text DEFAULT \'acme.t is text\'\n);\n', {
        copyStmt: 'COPY acme.t (id, note) FROM stdin;\n',
      }),
      entry('DEFAULT', "ALTER TABLE ONLY acme.t ALTER COLUMN id SET DEFAULT nextval('acme.t_id_seq'::regclass);\n"),
      entry('SEQUENCE SET', "SELECT pg_catalog.setval('acme.t_id_seq', 42, true);\n"),
      entry('ACL', 'GRANT USAGE ON SCHEMA acme TO app;\nGRANT SELECT ON TABLE acme.t TO acme;\n', { tag: 'SCHEMA acme' }),
      entry('DEFAULT ACL', 'ALTER DEFAULT PRIVILEGES FOR ROLE acme IN SCHEMA acme GRANT SELECT ON TABLES TO app;\n'),
    ]);
    assert.equal(schema!.defn, 'CREATE SCHEMA "stage";\n');
    assert.equal(schema!.tag, 'stage');
    assert.equal(table!.namespace, 'stage');
    assert.equal(table!.defn, 'CREATE TABLE "stage".t (\n    id integer NOT NULL,\n    note text DEFAULT \'acme.t is text\'\n);\n');
    assert.equal(table!.copyStmt, 'COPY "stage".t (id, note) FROM stdin;\n');
    assert.equal(def!.defn, `ALTER TABLE ONLY "stage".t ALTER COLUMN id SET DEFAULT nextval('"stage".t_id_seq'::regclass);\n`);
    assert.equal(seq!.defn, `SELECT pg_catalog.setval('"stage".t_id_seq', 42, true);\n`);
    assert.equal(grant!.defn, 'GRANT USAGE ON SCHEMA "stage" TO app;\nGRANT SELECT ON TABLE "stage".t TO acme;\n', 'a role of the same name stays');
    assert.equal(grant!.tag, 'SCHEMA "stage"');
    assert.equal(dacl!.defn, 'ALTER DEFAULT PRIVILEGES FOR ROLE acme IN SCHEMA "stage" GRANT SELECT ON TABLES TO app;\n');
  });

  it('handles quoted names with quotes, spaces and non-ASCII letters', () => {
    const from = 'Acme "Ω" Co';
    const [view] = rename([entry('VIEW', 'CREATE VIEW "Acme ""Ω"" Co".v AS\n SELECT t.id\n   FROM "Acme ""Ω"" Co".t;\n', { namespace: from })], from, 'stage');
    assert.equal(view!.defn, 'CREATE VIEW "stage".v AS\n SELECT t.id\n   FROM "stage".t;\n');
    assert.equal(view!.namespace, 'stage');
  });

  it('declines when the name is also a table or alias (a qualifier that is not the schema)', () => {
    assert.throws(
      () => rename([entry('VIEW', 'CREATE VIEW acme.v AS\n SELECT acme.id\n   FROM acme.acme;\n')]),
      NotRenameableError,
    );
  });

  it('declines reg* values outside constants (object names stored as text in rows)', () => {
    assert.throws(() => rename([entry('TABLE', 'CREATE TABLE acme.t (\n    r regclass\n);\n')]), NotRenameableError);
  });

  it('refuses function bodies or settings naming the schema in text, like a clone', () => {
    assert.throws(
      () => rename([entry('FUNCTION', "CREATE FUNCTION acme.f() RETURNS bigint\n    LANGUAGE plpgsql\n    AS $$ BEGIN RETURN (SELECT count(*) FROM acme.t); END $$;\n", { tag: 'f()' })]),
      (err: unknown) => err instanceof TextSelfReferenceError && err.functions.includes('f()'),
    );
    assert.throws(
      () => rename([entry('FUNCTION', "CREATE FUNCTION acme.g() RETURNS int\n    LANGUAGE sql\n    SET search_path TO 'acme'\n    AS $$ SELECT 1 $$;\n", { tag: 'g()' })]),
      TextSelfReferenceError,
    );
    // A body that does not name it is carried as it is.
    const [fn] = rename([entry('FUNCTION', 'CREATE FUNCTION acme.h() RETURNS int\n    LANGUAGE sql\n    AS $$ SELECT 1 $$;\n')]);
    assert.equal(fn!.defn, 'CREATE FUNCTION "stage".h() RETURNS int\n    LANGUAGE sql\n    AS $$ SELECT 1 $$;\n');
  });
});
