// Abuse: hostile tenant ids, schema names and backup ids through the `strata` CLI (argument
// arrays, the way a script passes them): usage errors (exit 2) or clear errors (exit 1), one line,
// never a stack trace; `--json` prints exactly one error object; no shell runs, nothing is injected.
// A command the CLI does not know fails the case: every command listed here is part of the CLI.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { quoteIdent } from '../db/ident.ts';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import { leakedSecrets, runCase, secretsOfEnv } from './harness.ts';
import { hostileValues } from './hostile.ts';

const BIN = fileURLToPath(new URL('../../worker/bin/strata.mjs', import.meta.url));
const MARK = path.join(os.tmpdir(), `strata-pwned-${crypto.randomBytes(4).toString('hex')}`);

/** One hostile value per trial, cycling through the classes. */
const HOSTILE = hostileValues(MARK);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function strata(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const commands = (h: string): string[][] => [
  ['tenant', 'add', '--id', h, '--name', h, '--schema', 'ok_schema', '--tier', 'basic'],
  ['tenant', 'add', '--id', 'hostile-schema', '--name', 'x', '--schema', h, '--tier', 'basic'],
  ['tenant', 'add', '--id', 'hostile-tier', '--name', 'x', '--schema', 'ok_schema_2', '--tier', h],
  ['tenant', 'set-tier', '--id', h, '--tier', 'basic'],
  ['tenant', 'remove', '--id', h, '--yes'],
  ['list', '--tenant', h],
  ['show', '--backup', h],
  ['backup', '--tenant', h, '--storage', 's3_standard'],
  ['hold', '--backup', h, '--on'],
  ['verify', '--backup', h],
  ['restore', '--backup', h, '--yes'],
  ['restore', '--backup', '00000000-0000-4000-8000-000000000000', '--into-schema', h, '--yes'],
  ['restore', 'undo', '--restore', h, '--yes'],
];

describe('hostile input through the strata CLI', () => {
  let stack: TestStack;
  let env: Record<string, string>;
  before(async () => {
    stack = await startTestStack();
    env = { ...stack.env, STRATA_ENV_FILE: '/nonexistent' };
  });
  after(async () => {
    fs.rmSync(MARK, { force: true });
    await stack?.stop();
  });

  it('exit 1/2 with one clear line, never a stack trace or an injection', async () => {
    const schemasBefore = (await stack.db.execute<{ n: number }>(sql`select count(*)::int n from pg_namespace`)).rows[0]!.n;
    const secrets = secretsOfEnv(stack.env);
    await runCase('Hostile ids and names through the CLI', 'abuse', async (i) => {
      const h = HOSTILE[i % HOSTILE.length]!;
      const outcomes: string[] = [];
      // Every command once per trial, every other one with --json (alternating between trials).
      const all = commands(h).map((args, k) => ((k + i) % 2 ? [...args, '--json'] : args));
      for (let k = 0; k < all.length; k += 2) {
        const pair = await Promise.all(all.slice(k, k + 2).map((args) => strata(args, env).then((r) => ({ args, r }))));
        for (const { args, r } of pair) {
          const label = `${args[0]}${args[1] && !args[1].startsWith('--') ? ` ${args[1]}` : ''}`;
          const where = `strata ${label} with ${JSON.stringify(h.slice(0, 40))}`;
          assert.doesNotMatch(r.stderr + r.stdout, /unknown command/, `${where}: the CLI must know the command`);
          assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at |TypeError|ReferenceError|node:internal/, `${where}: no stack trace\n${r.stderr}`);
          assert.deepEqual(leakedSecrets({ [where]: r.stderr + r.stdout }, secrets), []);
          if (args.includes('--json') && r.code !== 0) {
            const lines = r.stdout.trim().split('\n');
            assert.equal(lines.length, 1, `${where}: one JSON object on stdout`);
            assert.ok(JSON.parse(lines[0]!).error?.message, `${where}: {"error":{…}}`);
          }
          if (r.code === 0) {
            // Only a valid schema name (any identifier) may be accepted — as exactly that name.
            assert.equal(label, 'tenant add', `${where} succeeded`);
            outcomes.push('valid schema name: accepted, stored literally');
          } else {
            assert.ok(r.code === 1 || r.code === 2, `${where}: exit ${r.code}\n${r.stderr}`);
            if (!args.includes('--json')) assert.equal(r.stderr.trim().split('\n').length, 1, `${where}: one line\n${r.stderr}`);
            outcomes.push(r.code === 2 ? 'usage error, exit 2' : 'clear error, exit 1');
          }
        }
      }
      assert.ok(!fs.existsSync(MARK), 'no shell ran the input');
      const tables = await stack.db.execute<{ n: number }>(sql`select count(*)::int n from information_schema.tables where table_name = 'tenants'`);
      assert.equal(tables.rows[0]!.n, 1, 'the tenants table is still there');
      const schemas = (await stack.db.execute<{ n: number }>(sql`select count(*)::int n from pg_namespace`)).rows[0]!.n;
      const literal = (await stack.db.execute<{ n: number }>(sql`select count(*)::int n from pg_namespace where nspname = ${h}`)).rows[0]!.n;
      assert.equal(schemas - literal, schemasBefore, 'no schema was created or dropped (but the literal name, when accepted)');
      if (literal) await stack.db.execute(sql.raw(`drop schema ${quoteIdent(h)} cascade`));
      await stack.db.execute(sql`delete from tenant_subscriptions; delete from tenants`);
      // One outcome per invocation (each trial runs every command, with and without --json).
      return outcomes;
    });
  });
});
