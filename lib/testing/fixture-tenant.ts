// The fidelity fixture: a tenant schema using what real apps use and naive restores break, and
// `fingerprint(url, schema)` — definitions, row hashes and sequence states — to compare a schema
// before a backup and after a restore (or a clone, whose name is normalised away).
// Like in production, the tenant's objects belong to the application's role (saas_app), never to a
// superuser; one table belongs to another role (strata_fx_owner), a member of saas_app.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { quoteIdent } from '../db/ident.ts';
import { PgConnection } from '../process/child-env.ts';
import { runTool } from '../process/tool-process.ts';
import { ensureMember, ensureRole, TENANT_OWNER_ROLE, withClusterLock } from '../services/replay-role.ts';
import { TOOLS } from '../process/system-tools.ts';

/** Upper case, spaces, a double quote and non-ASCII letters: every quoting mistake shows. */
export const FIXTURE_SCHEMA = 'Acme "Ωmega" Ünïcode Tenant';
export const FIXTURE_READER = 'strata_fx_reader';
export const FIXTURE_OWNER = 'strata_fx_owner';

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Roles (cluster-wide, created one session at a time) and the `public` table the fixture's foreign keys
 * point at, readable and referenceable by the tenant owner. Idempotent. `url`: a superuser's.
 */
export async function prepareFixtureDatabase(url: string): Promise<void> {
  await withClusterLock(url, async (c) => {
    await ensureRole(c, TENANT_OWNER_ROLE, 'NOLOGIN');
    await ensureRole(c, FIXTURE_READER, 'NOLOGIN');
    await ensureRole(c, FIXTURE_OWNER, 'NOLOGIN');
    // A restore gives owned_by_role to its owner (ALTER TABLE … OWNER TO) before the schema's grants
    // are replayed: the owner needs CREATE on the schema by then, which membership in saas_app gives.
    await ensureMember(c, TENANT_OWNER_ROLE, FIXTURE_OWNER);
  });
  await withClient(url, async (c) => {
    await c.query(`
      CREATE TABLE IF NOT EXISTS public.fx_plans (code text PRIMARY KEY, label text NOT NULL);
      INSERT INTO public.fx_plans VALUES ('free', 'Free'), ('pro', 'Pro'), ('team', 'Team') ON CONFLICT DO NOTHING;
      GRANT SELECT, REFERENCES ON public.fx_plans TO ${TENANT_OWNER_ROLE};`);
  });
}

/**
 * What an application database often has and a naive restore inherits: default privileges of the
 * restoring role (`role`: the replay role) that widen the grants of every object it creates.
 */
export async function widenDefaultPrivileges(url: string, role: string): Promise<void> {
  const r = quoteIdent(role);
  await withClient(url, (c) =>
    c.query(`
      ALTER DEFAULT PRIVILEGES FOR ROLE ${r} GRANT SELECT, INSERT ON TABLES TO ${FIXTURE_READER};
      ALTER DEFAULT PRIVILEGES FOR ROLE ${r} GRANT USAGE ON SEQUENCES TO ${FIXTURE_READER};
      ALTER DEFAULT PRIVILEGES FOR ROLE ${r} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;`),
  );
}

export interface FixtureOptions {
  schemaName?: string;
  /** Also registers the tenant in `tenants` (and its plan). */
  tenantId?: string;
  /** Rows of the big table (default 100,000). */
  rows?: number;
}

export async function createFixtureTenant(url: string, options: FixtureOptions = {}): Promise<{ schemaName: string }> {
  const schemaName = options.schemaName ?? FIXTURE_SCHEMA;
  const rows = options.rows ?? 100_000;
  const s = quoteIdent(schemaName);
  await prepareFixtureDatabase(url);
  await withClient(url, async (c) => {
    await c.query('BEGIN');
    await c.query(`CREATE SCHEMA ${s} AUTHORIZATION ${TENANT_OWNER_ROLE}`);
    await c.query(`SET LOCAL search_path TO ${s}, public`);
    // Everything in the schema is the application's, created by it.
    await c.query(`SET LOCAL ROLE ${TENANT_OWNER_ROLE}`);
    await c.query(FIXTURE_DDL(s, rows));
    await c.query('RESET ROLE');
    await c.query(`ALTER TABLE owned_by_role OWNER TO ${FIXTURE_OWNER}`);
    if (options.tenantId) {
      await c.query('INSERT INTO public.tenants (id, name, schema_name) VALUES ($1, $2, $3)', [options.tenantId, `Tenant ${options.tenantId}`, schemaName]);
      await c.query('INSERT INTO public.tenant_subscriptions (tenant_id, tier_id) VALUES ($1, $2)', [options.tenantId, 'premium']);
    }
    await c.query('COMMIT');
  });
  return { schemaName };
}

const FIXTURE_DDL = (s: string, rows: number) => `
COMMENT ON SCHEMA ${s} IS 'tenant schema; ünïcode ''quoted''';
GRANT USAGE ON SCHEMA ${s} TO ${FIXTURE_READER};

CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN positive_int AS integer CONSTRAINT positive CHECK (VALUE > 0);
CREATE TYPE money_pair AS (amount numeric(12,2), currency char(3));

CREATE TABLE accounts (
  id bigint GENERATED ALWAYS AS IDENTITY (START WITH 1000000) PRIMARY KEY,
  plan text NOT NULL REFERENCES public.fx_plans (code),
  name text NOT NULL CONSTRAINT name_not_blank CHECK (name <> ''),
  email text,
  created_at timestamptz NOT NULL DEFAULT '2026-01-01 00:00:00+00'
);
CREATE UNIQUE INDEX accounts_email_lower_uq ON accounts (lower(email));
COMMENT ON TABLE accounts IS 'Customer accounts — ünïcode, ''quotes'', and a
newline';
COMMENT ON COLUMN accounts.email IS 'unique, case-insensitively';
INSERT INTO accounts (plan, name, email)
  SELECT (ARRAY['free', 'pro', 'team'])[g % 3 + 1], 'Account ' || g, CASE WHEN g % 5 = 0 THEN NULL ELSE 'user' || g || '@example.com' END
  FROM generate_series(1, 1000) g;

CREATE TABLE events (
  id bigserial PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts (id) DEFERRABLE INITIALLY DEFERRED,
  kind mood NOT NULL,
  qty positive_int,
  price money_pair,
  payload jsonb,
  raw json,
  blob bytea,
  ratio numeric,
  tags text[],
  note text,
  total numeric GENERATED ALWAYS AS ((price).amount * qty) STORED,
  happened_at timestamptz NOT NULL
);
CREATE INDEX events_happy_idx ON events (happened_at) WHERE kind = 'happy';
CREATE INDEX events_payload_tag_idx ON events ((payload ->> 'tag'));
SELECT setval(pg_get_serial_sequence('events', 'id'), 5000000);
INSERT INTO events (account_id, kind, qty, price, payload, raw, blob, ratio, tags, note, happened_at)
  SELECT 1000000 + g % 1000,
    (ARRAY['sad', 'ok', 'happy'])[g % 3 + 1]::mood,
    g % 100 + 1,
    ROW(round((g % 1000) / 10.0, 2), 'EUR')::money_pair,
    jsonb_build_object('n', g, 'tag', 'x' || g % 7, 'nested', jsonb_build_array(g, NULL, 'ü')),
    format('{ "g" : %s ,   "odd"  :[ 1 ,2 ]}', g)::json,
    decode(md5(g::text), 'hex'),
    CASE g % 50 WHEN 0 THEN 'NaN'::numeric WHEN 1 THEN 'Infinity'::numeric WHEN 2 THEN '-Infinity'::numeric ELSE g / 7.0 END,
    ARRAY['a' || g % 3, NULL, ''],
    CASE g % 10 WHEN 0 THEN NULL WHEN 1 THEN '' ELSE E'line\\nnext\\t\\\\ \\\\N ü ' || g END,
    '2026-01-01 00:00:00+00'::timestamptz + g * interval '1 minute'
  FROM generate_series(1, ${rows}) g;
GRANT SELECT (id, kind), UPDATE (note) ON events TO ${FIXTURE_READER};

CREATE TABLE samples (
  id int PRIMARY KEY,
  t text, j json, jb jsonb, b bytea, n numeric, f float8, arr int[], tarr text[]
);
INSERT INTO samples VALUES
  (1, E'line1\\nline2\\ttab\\\\backslash \\\\N end', '{ "a" :  1,   "b":[1,2 ] }', '{"x": [1, 2, {"y": null}]}', '\\x00ff5c4e0a', 'NaN', 'Infinity', '{1,NULL,3}', '{"a b","c,d","\\\\N",""}'),
  (2, '', '[]', 'null', '', 'Infinity', '-Infinity', '{}', '{NULL}'),
  (3, NULL, NULL, NULL, NULL, '-Infinity', 'NaN', NULL, NULL),
  (4, '\\N', ' "s" ', '"ünï ☃ 😀"', '\\x5c4e', 0.1, -0.0, '{{1,2},{3,4}}', '{"ü","\\""}');

-- Fires on every insert: a restore that loads rows after creating it would change them.
CREATE FUNCTION samples_mark() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  NEW.t := coalesce(NEW.t, '') || ' [trigger fired]';
  RETURN NEW;
END
$fn$;
CREATE TRIGGER samples_mark BEFORE INSERT OR UPDATE ON samples FOR EACH ROW EXECUTE FUNCTION samples_mark();

CREATE TABLE audit_trail (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, account_id bigint, at timestamptz);
CREATE FUNCTION audit_account() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format('INSERT INTO %I.audit_trail (account_id, at) VALUES ($1, now())', TG_TABLE_SCHEMA) USING NEW.id;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER accounts_audit AFTER INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION audit_account();
CREATE FUNCTION happy_count() RETURNS bigint LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT count(*) FROM events WHERE kind = 'happy';
END;
CREATE FUNCTION label(a accounts) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$ SELECT a.name || ' <' || coalesce(a.email, '-') || '>' $fn$;

CREATE TABLE legacy (id int PRIMARY KEY, score int);
INSERT INTO legacy VALUES (1, -5), (2, 10);
ALTER TABLE legacy ADD CONSTRAINT score_nonneg CHECK (score >= 0) NOT VALID;

CREATE TABLE measurements (id int NOT NULL, at date NOT NULL, v numeric) PARTITION BY RANGE (at);
CREATE TABLE measurements_2025 PARTITION OF measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE measurements_2026 PARTITION OF measurements FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX measurements_at_idx ON measurements (at);
INSERT INTO measurements SELECT g, DATE '2025-06-01' + g, g * 1.5 FROM generate_series(1, 400) g;

ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY accounts_reader ON accounts FOR SELECT TO ${FIXTURE_READER} USING (plan = 'pro');
GRANT SELECT ON accounts TO ${FIXTURE_READER};

CREATE TABLE owned_by_role (id serial PRIMARY KEY, v text);
INSERT INTO owned_by_role (v) VALUES ('owned'), ('by'), ('role');

CREATE TABLE empty_things (id int, label text);

CREATE SEQUENCE spare_seq START 100;
SELECT nextval('spare_seq'), nextval('spare_seq');
ALTER SEQUENCE spare_seq RESTART;

CREATE VIEW happy_events AS SELECT id, account_id, happened_at FROM events WHERE kind = 'happy';
CREATE MATERIALIZED VIEW account_totals AS SELECT account_id, count(*) AS n, sum(qty) AS qty FROM events GROUP BY account_id;
CREATE UNIQUE INDEX account_totals_uq ON account_totals (account_id);
CREATE MATERIALIZED VIEW account_totals_later AS SELECT account_id FROM events WITH NO DATA;
`;

export interface Fingerprint {
  /** Schema-only pg_dump with the schema name (quoted or not) replaced by <SCHEMA>. */
  definitions: string;
  tables: Record<string, { rows: number; hash: string }>;
  sequences: Record<string, { last_value: string; is_called: boolean }>;
  populated: Record<string, boolean>;
}

/** Everything that must survive a backup and restore of one schema, in comparable form. */
export async function fingerprint(url: string, schema: string): Promise<Fingerprint> {
  const exact = quoteIdent(schema);
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-fingerprint-'));
  let dump: string;
  try {
    const connection = PgConnection.fromUrl(url, { appName: 'strata-test', dir });
    dump = await runTool(TOOLS.pgDump, ['-s', '--no-password', '--strict-names', '-n', exact], { connection });
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
  const definitions = dump
    .split('\n')
    .filter((l) => !/^-- Dumped (from|by)/.test(l) && !/^\\(un)?restrict /.test(l))
    .join('\n')
    .split(exact)
    .join('<SCHEMA>')
    .split(schema)
    .join('<SCHEMA>');
  return withClient(url, async (c) => {
    const rels = await c.query<{ relname: string; relkind: string; relispopulated: boolean }>(
      `SELECT c.relname, c.relkind, c.relispopulated FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind IN ('r', 'm', 'S') ORDER BY c.relname`,
      [schema],
    );
    const tables: Fingerprint['tables'] = {};
    const sequences: Fingerprint['sequences'] = {};
    const populated: Fingerprint['populated'] = {};
    for (const r of rels.rows) {
      const q = `${exact}.${quoteIdent(r.relname)}`;
      if (r.relkind === 'S') {
        const seq = await c.query<{ last_value: string; is_called: boolean }>(`SELECT last_value::text, is_called FROM ${q}`);
        sequences[r.relname] = seq.rows[0]!;
        continue;
      }
      if (r.relkind === 'm') {
        populated[r.relname] = r.relispopulated;
        if (!r.relispopulated) continue;
      }
      const res = await c.query<{ rows: string; hash: string | null }>(
        `SELECT count(*) AS rows, md5(string_agg(h, '' ORDER BY h)) AS hash FROM (SELECT md5(t::text) AS h FROM ONLY ${q} t) x`,
      );
      tables[r.relname] = { rows: Number(res.rows[0]!.rows), hash: res.rows[0]!.hash ?? '' };
    }
    return { definitions, tables, sequences, populated };
  });
}
