// A failing query never shows its SQL or parameter values (issue 12 item 4): against a real
// PostgreSQL server, through Drizzle, as the CLI, the API and job rows would report it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { toApiError } from '../api/errors.ts';
import { redactSecrets } from '../process/redact.ts';
import { freePort, startPostgres, type PostgresServer } from '../services/postgres.ts';
import { closeDb, getDb } from './client.ts';
import { databaseFailureOf, describeError, operatorDetail } from './errors.ts';

const SECRET_VALUE = 'patient-4711-private';

describe('database errors', () => {
  let server: PostgresServer;
  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await closeDb();
    await server?.stop();
  });

  const failure = async (q: ReturnType<typeof sql>): Promise<unknown> => {
    try {
      await getDb(server.url).execute(q);
    } catch (err) {
      return err;
    }
    assert.fail('the query should have failed');
  };

  it('a missing table: code and SQLSTATE, the server message naming the table, no SQL and no parameter values', async () => {
    const err = await failure(sql`select * from no_such_table where note = ${SECRET_VALUE}`);
    assert.match(String((err as Error).message), /Failed query/, 'Drizzle itself quotes the query');
    const f = databaseFailureOf(err)!;
    assert.deepEqual([f.code, f.sqlstate], ['database_error', '42P01']);
    for (const text of [f.message, describeError(err)]) {
      assert.match(text, /SQLSTATE 42P01.*relation "no_such_table" does not exist/);
      assert.doesNotMatch(text, /select|Failed query|params/i);
      assert.ok(!text.includes(SECRET_VALUE));
    }
    // The operator's log has the query, never the values.
    const detail = operatorDetail(err);
    assert.match(detail, /query: select \* from no_such_table/);
    assert.ok(!detail.includes(SECRET_VALUE));
  });

  it('a value the server quotes back (data exception): only the class is shown', async () => {
    const err = await failure(sql`select ${SECRET_VALUE}::bigint`);
    const text = describeError(err);
    assert.match(text, /SQLSTATE 22P02, data exception/);
    assert.ok(!text.includes(SECRET_VALUE), text);
  });

  it('the API answers database_error with a reference, never the query', async () => {
    const err = await failure(sql`select * from no_such_table where note = ${SECRET_VALUE}`);
    const apiErr = toApiError(err);
    assert.equal(apiErr.status, 500);
    const body = JSON.stringify(apiErr.toBody());
    assert.equal(apiErr.toBody().error.code, 'database_error');
    assert.match(body, /reference [0-9a-f]{8}/);
    assert.doesNotMatch(body, /select|Failed query|params/i);
    assert.ok(!body.includes(SECRET_VALUE));
  });

  it('an unreachable server is database_unavailable, its URL and password unsaid', async () => {
    const url = `postgres://strata:hunter2-secret@127.0.0.1:${await freePort()}/nowhere`;
    let err: unknown;
    try {
      await getDb(url).execute(sql`select 1`);
    } catch (e) {
      err = e;
    }
    const f = databaseFailureOf(err)!;
    assert.equal(f.code, 'database_unavailable');
    assert.match(f.message, /ECONNREFUSED/);
    assert.ok(!f.message.includes('hunter2-secret'));
    assert.equal(toApiError(err).status, 503);
  });

  it('a message that embeds Drizzle text is scrubbed by redactSecrets (job rows, webhooks)', () => {
    const text = redactSecrets(`restore failed: Failed query: select * from tenants where id = $1\nparams: ${SECRET_VALUE}`, {
      DATABASE_URL: 'postgres://a:b@h/d',
      sourceUrl: 'postgres://a:b@h/d',
    });
    assert.match(text, /^restore failed: a database query failed/);
    assert.ok(!text.includes(SECRET_VALUE) && !/select/i.test(text), text);
  });
});
