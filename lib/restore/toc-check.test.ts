// The TOC check: the archive's own table of contents, parsed exactly (checked against pg_restore --list
// on real pg_dump archives), and only the tenant schema's entries accepted.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { pgTestEnv } from '../testing/pg-env.ts';
import { startPostgres } from '../services/postgres.ts';
import { TEST_PG_ENV, createDatabase, dropDatabase } from '../testing/stack.ts';
import { entriesOutsideSchema, listedEntryIds, parseArchiveToc, readArchiveToc, type TocEntry } from './toc-check.ts';

const e = (desc: string, namespace: string | null, tag: string, defn = ''): TocEntry => ({ dumpId: 1, desc, namespace, tag, owner: 'o', defn });

describe('entriesOutsideSchema (pure)', () => {
  const schema = 'acme corp';
  it('accepts the schema, its objects, data, comments, ACLs, default ACLs and the archive settings', () => {
    const ok = [
      e('ENCODING', null, 'ENCODING', "SET client_encoding = 'UTF8';\n"),
      e('STDSTRINGS', null, 'STDSTRINGS', "SET standard_conforming_strings = 'on';\n"),
      e('SEARCHPATH', null, 'SEARCHPATH', "SELECT pg_catalog.set_config('search_path', '', false);\n"),
      e('SCHEMA', null, 'acme corp'),
      e('COMMENT', null, 'SCHEMA "acme corp"'),
      e('ACL', null, 'SCHEMA "acme corp"'),
      e('TABLE', schema, 'items'),
      e('TABLE DATA', schema, 'my items'),
      e('SEQUENCE SET', schema, 'items_id_seq'),
      e('FK CONSTRAINT', schema, 'items items_fk'),
      e('MATERIALIZED VIEW DATA', schema, 'mv'),
      e('DEFAULT ACL', schema, 'DEFAULT PRIVILEGES FOR TABLES'),
      e('COMMENT', schema, 'TABLE items'),
      e('FUNCTION', schema, 'f(integer)'),
    ];
    assert.deepEqual(entriesOutsideSchema(ok, schema), []);
  });

  it('refuses and names everything else, compared exactly (a prefix of the name is another schema)', () => {
    const bad = [
      e('TABLE', 'public', 'evil'),
      e('TABLE', 'acme', 'corp items'),
      e('SCHEMA', null, 'acme corp evil'),
      e('SCHEMA', null, 'public'),
      e('EXTENSION', null, 'plpgsql'),
      e('COMMENT', null, 'EXTENSION plpgsql'),
      e('DATABASE', null, 'strata'),
      e('EVENT TRIGGER', null, 'et'),
      e('PUBLICATION', null, 'pub'),
      e('PUBLICATION TABLE', schema, 'pub items'),
      e('BLOB', null, '16400'),
      e('BLOBS', null, 'BLOBS'),
      e('DEFAULT ACL', null, 'DEFAULT PRIVILEGES FOR TABLES'),
      e('CAST', null, 'CAST (text AS integer)'),
      e('SEARCHPATH', null, 'SEARCHPATH', "SELECT pg_catalog.set_config('search_path', '', false); COPY x TO PROGRAM 'id';\n"),
    ];
    const out = entriesOutsideSchema(bad, schema);
    assert.equal(out.length, bad.length, out.join('\n'));
    assert.match(out[0]!, /^TABLE "public"\.evil \(entry 1\)$/);
    assert.match(out[4]!, /^EXTENSION plpgsql/);
  });

  it('refuses what is not a custom-format archive', () => {
    assert.throws(() => parseArchiveToc(Buffer.from('--\n-- PostgreSQL database dump\n')), /PGDMP/);
  });
});

describe('readArchiveToc on real pg_dump archives', () => {
  let adminUrl: string;
  let stop: (() => Promise<void>) | undefined;
  const database = `toc_${process.pid}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-toc-'));

  before(async () => {
    adminUrl = process.env[TEST_PG_ENV] ?? '';
    if (!adminUrl) {
      const server = await startPostgres();
      stop = server.stop;
      adminUrl = server.adminUrl('postgres');
    }
    await createDatabase(adminUrl, database);
    const client = new pg.Client({ connectionString: adminUrl.replace(/\/postgres(\?|$)/, `/${database}$1`) });
    await client.connect();
    try {
      await client.query(`
        CREATE SCHEMA "acme corp";
        COMMENT ON SCHEMA "acme corp" IS 'tenant';
        GRANT USAGE ON SCHEMA "acme corp" TO PUBLIC;
        ALTER DEFAULT PRIVILEGES IN SCHEMA "acme corp" GRANT SELECT ON TABLES TO PUBLIC;
        CREATE TABLE "acme corp"."my items" (id serial PRIMARY KEY, name text CHECK (name <> ''));
        CREATE TABLE "acme corp".child (id int REFERENCES "acme corp"."my items"(id));
        CREATE INDEX ON "acme corp".child (id);
        CREATE VIEW "acme corp".v AS SELECT * FROM "acme corp"."my items";
        CREATE MATERIALIZED VIEW "acme corp".mv AS SELECT count(*) FROM "acme corp"."my items";
        CREATE FUNCTION "acme corp".f(x int) RETURNS int LANGUAGE sql AS 'SELECT x';
        COMMENT ON TABLE "acme corp".child IS 'c';
        INSERT INTO "acme corp"."my items" (name) VALUES ('a'), ('b');
        CREATE SCHEMA acme;
        CREATE TABLE acme."corp x" (id int);
        SELECT lo_from_bytea(0, 'large');
      `);
    } finally {
      await client.end();
    }
  });
  after(async () => {
    await dropDatabase(adminUrl, database).catch(() => {});
    await stop?.();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const dump = (name: string, args: string[]) => {
    const file = path.join(dir, name);
    const env = pgTestEnv(adminUrl, database);
    execFileSync('pg_dump', ['-Fc', '-Z0', '--no-password', '-f', file, ...args], { env });
    return file;
  };
  const listed = (file: string) =>
    execFileSync('pg_restore', ['--list', file], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => /^\d+;/.test(l))
      .map((l) => Number(l.slice(0, l.indexOf(';'))))
      .sort((a, b) => a - b);

  it('reads the same entries as pg_restore --list and accepts a dump of one schema (name with a space)', async () => {
    const file = dump('tenant.pgdump', ['--strict-names', '-n', '"acme corp"']);
    const toc = await readArchiveToc(file);
    // The archive settings (ENCODING, STDSTRINGS, SEARCHPATH) and the DATABASE entry (replayed only
    // with --create) are in the TOC but not in --list.
    assert.deepEqual(
      toc.filter((t) => !['ENCODING', 'STDSTRINGS', 'SEARCHPATH', 'DATABASE'].includes(t.desc)).map((t) => t.dumpId).sort((a, b) => a - b),
      listed(file),
    );
    const database = toc.find((t) => t.desc === 'DATABASE');
    assert.ok(database && /^CREATE DATABASE /.test(database.defn));
    assert.deepEqual(entriesOutsideSchema(toc, 'acme corp'), [`DATABASE ${database.tag} (entry ${database.dumpId})`]);
    const restored = listedEntryIds(execFileSync('pg_restore', ['--list', file], { encoding: 'utf8' }));
    const descs = new Set(toc.map((t) => t.desc));
    for (const d of ['SCHEMA', 'TABLE', 'TABLE DATA', 'SEQUENCE SET', 'FK CONSTRAINT', 'MATERIALIZED VIEW DATA', 'DEFAULT ACL', 'COMMENT', 'ACL', 'FUNCTION']) {
      assert.ok(descs.has(d), `${d} in ${[...descs].join(', ')}`);
    }
    assert.ok(toc.some((t) => t.desc === 'TABLE' && t.namespace === 'acme corp' && t.tag === 'my items'));
    assert.deepEqual(entriesOutsideSchema(toc, 'acme corp', restored), []);
  });

  it('names the entries of a whole-database dump that are outside the schema', async () => {
    const file = dump('all.pgdump', []);
    const outside = entriesOutsideSchema(await readArchiveToc(file), 'acme corp', listedEntryIds(execFileSync('pg_restore', ['--list', file], { encoding: 'utf8' })));
    assert.ok(outside.some((x) => /^SCHEMA acme \(/.test(x)), outside.join('\n'));
    assert.ok(outside.some((x) => x.startsWith('TABLE "acme".corp x')), outside.join('\n'));
    assert.ok(outside.some((x) => /^BLOB/.test(x)), outside.join('\n'));
    assert.ok(!outside.some((x) => x.includes('"acme corp"')), outside.join('\n'));
  });
});
