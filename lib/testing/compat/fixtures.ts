// The compatibility suite's tenants, built the way a schema-per-tenant application builds them: its
// own roles (NOLOGIN application roles, never superusers), a schema AUTHORIZATION the tenant owner,
// objects created under SET ROLE by the roles that own them, per-schema default privileges so the
// application role reaches future tables, and its own `public` pieces (extensions, a domain, a
// function, the platform `tenants` table) that tenant columns use. Nothing comes from `strata migrate`
// except the platform tables themselves.
//
// Role names carry a random suffix: test files run concurrently in one cluster and roles are
// cluster-wide. dropCompatRoles removes them (and what they own in this database) at the end.
import crypto from 'node:crypto';
import pg from 'pg';
import { quoteIdent, quoteLiteral } from '../../db/ident.ts';
import { TENANT_OWNER_ROLE, withClusterLock } from '../../services/replay-role.ts';

export interface CompatRoles {
  /** Owns the tenant schemas and most objects in them. */
  owner: string;
  /** The application's runtime role: DML through default privileges and grants. */
  app: string;
  /** Read-only reporting role: column grants, one policy. */
  reader: string;
  /** A second object owner (an import job), with its own default privileges in the schema. */
  etl: string;
}

/** `name` cut to at most `bytes` UTF-8 bytes on a character boundary (PostgreSQL would truncate at 63). */
export function cut(name: string, bytes: number): string {
  let out = '';
  for (const ch of name) {
    if (Buffer.byteLength(out + ch, 'utf8') > bytes) break;
    out += ch;
  }
  return out;
}

export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'strata-test-compat' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createCompatRoles(url: string): Promise<CompatRoles> {
  const tag = crypto.randomBytes(4).toString('hex');
  const roles: CompatRoles = { owner: `cx${tag}_owner`, app: `cx${tag}_app`, reader: `cx${tag}_reader`, etl: `cx${tag}_etl` };
  await withClient(url, (c) =>
    c.query(Object.values(roles).map((r) => `CREATE ROLE ${quoteIdent(r)} NOLOGIN NOSUPERUSER NOBYPASSRLS;`).join('\n')),
  );
  // The application's main role is a member of the roles owning its objects, and the stack's restore
  // role a member of it (lib/services/replay-role.ts): a least-privilege replay may act as each owner.
  // The second owner (etl) may create in the tenant schema only through the schema's ACL (GRANT CREATE
  // ON SCHEMA), not as a member of its owner: a replay must put that grant in place before it gives etl
  // its tables back (lib/restore/schema-first.ts).
  await withClusterLock(url, (c) =>
    c.query(`GRANT ${[roles.owner, roles.app, roles.etl].map(quoteIdent).join(', ')} TO ${quoteIdent(TENANT_OWNER_ROLE)};`),
  );
  return roles;
}

function quotedRoles(roles: CompatRoles): CompatRoles {
  return { owner: quoteIdent(roles.owner), app: quoteIdent(roles.app), reader: quoteIdent(roles.reader), etl: quoteIdent(roles.etl) };
}

/** Drops what the roles own or were granted in this database, then the roles (best effort). */
export async function dropCompatRoles(url: string, roles: CompatRoles): Promise<void> {
  const list = Object.values(roles).map(quoteIdent).join(', ');
  await withClient(url, (c) => c.query(`DROP OWNED BY ${list} CASCADE; DROP ROLE ${list};`));
}

/**
 * The application's database-wide pieces: extensions, a domain, an enum and a function in `public`
 * that tenant columns use, and the owner's global default privileges (every table it creates is
 * readable by the reader role) — a restore that created objects as the owner would widen the grants
 * of the tables where the application revoked that.
 */
export async function prepareApplicationPublic(url: string, roles: CompatRoles): Promise<void> {
  await withClient(url, (c) =>
    c.query(`
      CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public;
      CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;
      CREATE DOMAIN public.cx_phone AS text CONSTRAINT cx_phone_format CHECK (VALUE ~ '^\\+[0-9 ]+$');
      CREATE TYPE public.cx_currency AS ENUM ('EUR', 'USD', 'CHF');
      CREATE FUNCTION public.cx_default_region() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'eu-west' $$;
      GRANT SELECT ON public.tenants TO ${quoteIdent(roles.app)}, ${quoteIdent(roles.reader)};
      GRANT REFERENCES ON public.tenants TO ${quoteIdent(roles.owner)};
      ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(roles.owner)} GRANT SELECT ON TABLES TO ${quoteIdent(roles.reader)};`),
  );
}

/** Registers a tenant in the platform tables (its id deliberately unlike its schema name). */
export async function registerTenant(url: string, tenantId: string, schemaName: string): Promise<void> {
  await withClient(url, async (c) => {
    await c.query('INSERT INTO public.tenants (id, name, schema_name) VALUES ($1, $2, $3)', [tenantId, `Tenant ${tenantId}`, schemaName]);
    await c.query('INSERT INTO public.tenant_subscriptions (tenant_id, tier_id) VALUES ($1, $2)', [tenantId, 'advanced']);
  });
}

/**
 * Most features in one schema: per-schema default privileges (tables, sequences, functions, types;
 * FOR ROLE the owner, a second owner and the connecting role), table and column grants, RLS enabled
 * and forced, foreign keys into `public.tenants`, enum/domain/composite types, citext and
 * gen_random_uuid() columns, a `public` domain, enum and function default, identity and generated
 * columns, a partitioned table, materialized views (populated and not), triggers that would rewrite
 * rows during a naive data load, deferrable and NOT VALID constraints, inheritance, comments,
 * standalone and owned sequences at exact values, objects owned by two application roles.
 */
export async function createRichTenant(url: string, roles: CompatRoles, tenantId: string, schemaName: string): Promise<void> {
  const s = quoteIdent(schemaName);
  const { owner, app, reader, etl } = quotedRoles(roles);
  await registerTenant(url, tenantId, schemaName);
  await withClient(url, async (c) => {
    await c.query('BEGIN');
    await c.query(`
CREATE SCHEMA ${s} AUTHORIZATION ${owner};
COMMENT ON SCHEMA ${s} IS ${quoteLiteral(`tenant ${tenantId}: ünïcode 'quoted'`)};
GRANT USAGE ON SCHEMA ${s} TO ${app}, ${reader};
GRANT USAGE, CREATE ON SCHEMA ${s} TO ${etl};
-- A third role's own entry in the schema (the issue's "belonging to role …"); a superuser's entry
-- could not be replayed by a least-privilege restore role (it would have to be a member of it).
ALTER DEFAULT PRIVILEGES FOR ROLE ${app} IN SCHEMA ${s} GRANT SELECT ON TABLES TO ${reader};
ALTER DEFAULT PRIVILEGES FOR ROLE ${etl} IN SCHEMA ${s} GRANT SELECT ON TABLES TO ${reader};
ALTER DEFAULT PRIVILEGES FOR ROLE ${etl} IN SCHEMA ${s} GRANT SELECT, INSERT ON TABLES TO ${app};
SET LOCAL ROLE ${owner};
SET LOCAL search_path TO ${s}, public;
ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${app};
ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT USAGE, SELECT ON SEQUENCES TO ${app};
ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT EXECUTE ON FUNCTIONS TO ${app};
ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT USAGE ON TYPES TO ${app} WITH GRANT OPTION;

CREATE TYPE status AS ENUM ('new', 'active', 'closed');
COMMENT ON TYPE status IS 'customer lifecycle';
REVOKE USAGE ON TYPE status FROM PUBLIC;
CREATE DOMAIN quantity AS integer CONSTRAINT quantity_nonneg CHECK (VALUE >= 0);
CREATE TYPE address AS (street text, city text, zip text);

CREATE SEQUENCE invoice_no AS bigint START 1000 INCREMENT 7 CACHE 1;
CREATE SEQUENCE never_used START 5;
CREATE SEQUENCE rewound MINVALUE 1 MAXVALUE 99 CYCLE;
SELECT setval('rewound', 42, false);

CREATE TABLE customers (
  id uuid PRIMARY KEY DEFAULT public.gen_random_uuid(),
  tenant_id text NOT NULL REFERENCES public.tenants (id),
  email public.citext NOT NULL UNIQUE,
  phone public.cx_phone,
  currency public.cx_currency NOT NULL DEFAULT 'EUR',
  region text NOT NULL DEFAULT public.cx_default_region(),
  status status NOT NULL DEFAULT 'new',
  address address,
  secret_note text,
  created_at timestamptz NOT NULL DEFAULT '2026-01-01 00:00:00+00'
);
COMMENT ON TABLE customers IS 'one row per customer; ''quoted'' ünïcode';
COMMENT ON COLUMN customers.secret_note IS 'never shown to the reader role';
INSERT INTO customers (tenant_id, email, phone, status, address, secret_note)
  SELECT ${quoteLiteral(tenantId)}, 'User' || g || '@Example.com', CASE WHEN g % 4 = 0 THEN NULL ELSE '+41 ' || g END,
         (ARRAY['new', 'active', 'closed'])[g % 3 + 1]::status, ROW('Street ' || g, 'Zürich', lpad(g::text, 4, '0'))::address,
         CASE WHEN g % 2 = 0 THEN 'note ' || g END
  FROM generate_series(1, 300) g;
REVOKE DELETE ON customers FROM ${app};
REVOKE SELECT ON customers FROM ${reader};
GRANT SELECT (id, email, status), UPDATE (status) ON customers TO ${reader};
ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customers TO ${app}
  USING (tenant_id = current_setting('app.tenant_id', true)) WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY reader_active ON customers AS RESTRICTIVE FOR SELECT TO ${reader} USING (status <> 'closed');
GRANT SELECT (id, email), REFERENCES (id) ON customers TO ${etl};
CREATE POLICY etl_read ON customers FOR SELECT TO ${etl} USING (true);

CREATE TABLE orders (
  id bigint GENERATED ALWAYS AS IDENTITY (START WITH 500 INCREMENT BY 3) PRIMARY KEY,
  customer_id uuid NOT NULL REFERENCES customers (id) DEFERRABLE INITIALLY DEFERRED,
  invoice bigint NOT NULL DEFAULT nextval('invoice_no'),
  qty quantity NOT NULL,
  unit_cents integer NOT NULL,
  total_cents bigint GENERATED ALWAYS AS (qty::bigint * unit_cents) STORED,
  placed_at timestamptz NOT NULL,
  CONSTRAINT orders_invoice_uq UNIQUE (invoice) DEFERRABLE INITIALLY IMMEDIATE
);
INSERT INTO orders (customer_id, qty, unit_cents, placed_at)
  SELECT c.id, (row_number() OVER ()) % 17, 250 + (row_number() OVER ()) % 1000, '2026-02-01 00:00:00+00'::timestamptz + (row_number() OVER ()) * interval '1 hour'
  FROM customers c, generate_series(1, 5) g;
INSERT INTO orders (customer_id, qty, unit_cents, placed_at) SELECT id, 5000, 1, '2026-03-01' FROM customers LIMIT 1;
ALTER TABLE orders ADD CONSTRAINT orders_qty_small CHECK (qty < 1000) NOT VALID;
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_app ON orders TO ${app} USING (true);

-- Would change every row if it fired while the data is loaded.
CREATE FUNCTION stamp_order() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  NEW.placed_at := '1999-01-01 00:00:00+00';
  RETURN NEW;
END
$fn$;
CREATE TRIGGER orders_stamp BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION stamp_order();
CREATE TABLE order_log (id bigserial PRIMARY KEY, order_id bigint NOT NULL, logged text NOT NULL);
CREATE FUNCTION log_order() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO order_log (order_id, logged) VALUES (NEW.id, 'inserted');
  RETURN NULL;
END
$fn$;
CREATE TRIGGER orders_log AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION log_order();
INSERT INTO orders (customer_id, qty, unit_cents, placed_at) SELECT id, 2, 100, '2026-04-01' FROM customers LIMIT 3;
CREATE TRIGGER customers_touch BEFORE UPDATE ON customers FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION stamp_order();
ALTER TABLE customers DISABLE TRIGGER customers_touch;

CREATE FUNCTION customer_total(customer uuid) RETURNS bigint LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT coalesce(sum(total_cents), 0) FROM orders WHERE customer_id = customer;
END;
COMMENT ON FUNCTION customer_total(uuid) IS 'cents';
REVOKE EXECUTE ON FUNCTION customer_total(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_total(uuid) TO ${reader};

CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, kind text NOT NULL, payload jsonb) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE events_other PARTITION OF events DEFAULT;
CREATE INDEX events_at_idx ON events (at);
INSERT INTO events SELECT g, DATE '2025-09-01' + g, 'k' || g % 4, jsonb_build_object('g', g) FROM generate_series(1, 600) g;
GRANT SELECT ON events TO ${reader};

CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL);
CREATE TABLE pinned_notes (pinned_at timestamptz NOT NULL DEFAULT '2026-01-01') INHERITS (notes);
INSERT INTO notes VALUES (1, 'plain'), (2, 'also plain');
INSERT INTO pinned_notes VALUES (3, 'pinned', '2026-05-05');

CREATE MATERIALIZED VIEW customer_totals AS
  SELECT customer_id, count(*) AS orders, sum(total_cents) AS cents FROM orders GROUP BY customer_id;
CREATE UNIQUE INDEX customer_totals_uq ON customer_totals (customer_id);
CREATE MATERIALIZED VIEW closed_customers AS SELECT id FROM customers WHERE status = 'closed' WITH NO DATA;
CREATE VIEW active_customers WITH (security_barrier) AS SELECT id, email FROM customers WHERE status = 'active';
GRANT SELECT ON active_customers TO ${reader};
RESET ROLE;

SET LOCAL ROLE ${etl};
CREATE TABLE imports (id serial PRIMARY KEY, customer_id uuid REFERENCES customers (id) ON DELETE SET NULL, raw text);
INSERT INTO imports (customer_id, raw) SELECT id, 'row ' || email FROM customers LIMIT 40;
COMMENT ON TABLE imports IS 'owned by the import job';
RESET ROLE;
`);
    await c.query('COMMIT');
  });
}

/** A small tenant whose schema, table and column names need quoting (and may be 63 bytes long). */
export async function createOddTenant(
  url: string,
  roles: CompatRoles,
  tenantId: string,
  schemaName: string,
  names: { table: string; column: string },
): Promise<void> {
  const s = quoteIdent(schemaName);
  const t = quoteIdent(names.table);
  const col = quoteIdent(names.column);
  const seq = quoteIdent(cut(`seq "${names.column}"`, 63));
  const { owner, app } = quotedRoles(roles);
  await registerTenant(url, tenantId, schemaName);
  await withClient(url, async (c) => {
    await c.query('BEGIN');
    await c.query(`
CREATE SCHEMA ${s} AUTHORIZATION ${owner};
GRANT USAGE ON SCHEMA ${s} TO ${app};
SET LOCAL ROLE ${owner};
SET LOCAL search_path TO ${s};
ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT SELECT, INSERT ON TABLES TO ${app};
ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT USAGE ON SEQUENCES TO ${app};
CREATE TYPE ${quoteIdent(cut(`${names.column} kind`, 40))} AS ENUM ('a "b"', 'c.d', 'ü');
CREATE TABLE ${t} (
  id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  ${col} text NOT NULL,
  tenant_id text NOT NULL DEFAULT ${quoteLiteral(tenantId)} REFERENCES public.tenants (id)
);
COMMENT ON COLUMN ${t}.${col} IS ${quoteLiteral(`a column named ${names.column}`)};
INSERT INTO ${t} (${col}) SELECT 'value ' || g || ' "q" ü' FROM generate_series(1, 25) g;
GRANT UPDATE (${col}) ON ${t} TO ${app};
CREATE INDEX ${quoteIdent(cut(`idx ${names.table}`, 63))} ON ${t} (${col});
CREATE VIEW ${quoteIdent(cut(`view of ${names.table}`, 63))} AS SELECT id, ${col} FROM ${t};
CREATE SEQUENCE ${seq} START 10;
SELECT nextval(${quoteLiteral(`${s}.${seq}`)});
RESET ROLE;`);
    await c.query('COMMIT');
  });
}

/** What a live tenant does after its backup: data, sequences, grants and default privileges change. */
export async function changeRichTenant(url: string, roles: CompatRoles, schemaName: string): Promise<void> {
  const s = quoteIdent(schemaName);
  await withClient(url, (c) =>
    c.query(`
BEGIN;
SET LOCAL ROLE ${quoteIdent(roles.owner)};
SET LOCAL search_path TO ${s}, public;
DELETE FROM orders WHERE id % 4 = 0;
UPDATE customers SET status = 'closed' WHERE email LIKE 'user1%';
SELECT nextval('invoice_no'), nextval('never_used');
ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} REVOKE DELETE ON TABLES FROM ${quoteIdent(roles.app)};
ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT TRUNCATE ON TABLES TO ${quoteIdent(roles.etl)};
GRANT SELECT (secret_note) ON customers TO ${quoteIdent(roles.reader)};
ALTER TABLE customers NO FORCE ROW LEVEL SECURITY;
CREATE TABLE added_later (id int);
REFRESH MATERIALIZED VIEW customer_totals;
RESET ROLE;
ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(roles.etl)} IN SCHEMA ${s} REVOKE INSERT ON TABLES FROM ${quoteIdent(roles.app)};
COMMIT;`),
  );
}

/** What the small tenant does after its backup: a row more, and a default privilege less. */
export async function changeOddTenant(url: string, roles: CompatRoles, schemaName: string, names: { table: string; column: string }): Promise<void> {
  const s = quoteIdent(schemaName);
  await withClient(url, (c) =>
    c.query(`
BEGIN;
SET LOCAL ROLE ${quoteIdent(roles.owner)};
INSERT INTO ${s}.${quoteIdent(names.table)} (${quoteIdent(names.column)}) VALUES ('added after the backup');
ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} REVOKE USAGE ON SEQUENCES FROM ${quoteIdent(roles.app)};
COMMIT;`),
  );
}
