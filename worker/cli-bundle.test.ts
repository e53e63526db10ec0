// The CLI's bundle (worker/cli-bundle.mjs) on a scratch repository of its own: built on first use, run
// by plain node, reused while no source changed, rebuilt when one did, paths from import.meta.url as in
// the sources, the start-up packages bundled in and the others left to node_modules.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bundleFor } from './cli-bundle.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('CLI bundle', () => {
  let root: string;
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  };
  const bundle = (rebuild = false) => bundleFor({ root, entry: 'worker/cli.ts', rebuild });
  /** Runs a bundle the way the bin does: plain node, no loader. */
  const run = (url: string) => {
    const r = spawnSync(process.execPath, [fileURLToPath(url)], { cwd: os.tmpdir(), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { version: number; where: string; drizzle: string; pino: string; command: string };
  };
  const outputs = () => fs.readdirSync(path.join(root, '.strata', 'build')).filter((f) => f.endsWith('.mjs'));

  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-cli-bundle-'));
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'));
    write('package.json', '{ "type": "module" }\n');
    write(
      'lib/where.ts',
      "import { fileURLToPath } from 'node:url';\nexport const VERSION: number = 1;\nexport const where = (): string => fileURLToPath(import.meta.url);\n",
    );
    write('worker/commands/list.ts', "export const command = (): string => 'list';\n");
    write(
      'worker/cli.ts',
      [
        "import { sql } from 'drizzle-orm';",
        "import { pino } from 'pino';",
        "import { VERSION, where } from '../lib/where.ts';",
        "const { command } = await import('./commands/list.ts');",
        'console.log(JSON.stringify({ version: VERSION, where: where(), drizzle: typeof sql, pino: typeof pino, command: command() }));',
        '',
      ].join('\n'),
    );
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('builds on first use into .strata/build and runs with plain node, import.meta.url naming the source file', async () => {
    const first = await bundle();
    assert.equal(first.built, true);
    assert.ok(fileURLToPath(first.url).startsWith(path.join(root, '.strata', 'build', 'cli-')));
    assert.deepEqual(run(first.url), { version: 1, where: path.join(root, 'lib', 'where.ts'), drizzle: 'function', pino: 'function', command: 'list' });
    // Code splitting: the dynamically imported command is a file of its own.
    assert.ok(outputs().length >= 2, outputs().join(' '));
    const text = outputs().map((f) => fs.readFileSync(path.join(root, '.strata', 'build', f), 'utf8')).join('\n');
    assert.match(text, /from "pino"/, 'pino stays in node_modules');
    assert.doesNotMatch(text, /from "drizzle-orm"/, 'drizzle-orm is bundled in');
  });

  it('reuses the bundle while every source hashes the same, and rebuilds when one changed', async () => {
    const a = await bundle();
    const b = await bundle();
    assert.deepEqual([a.built, b.built], [false, false]);
    assert.equal(b.url, a.url);

    // The same bytes written again: not a change.
    write('lib/where.ts', fs.readFileSync(path.join(root, 'lib', 'where.ts'), 'utf8'));
    assert.equal((await bundle()).built, false);

    write('lib/where.ts', fs.readFileSync(path.join(root, 'lib', 'where.ts'), 'utf8').replace('VERSION: number = 1', 'VERSION: number = 2'));
    const c = await bundle();
    assert.equal(c.built, true);
    assert.notEqual(c.url, a.url);
    assert.equal(run(c.url).version, 2);
    assert.equal((await bundle()).built, false);

    // A change in a module loaded only by one command counts too.
    write('worker/commands/list.ts', "export const command = (): string => 'list v2';\n");
    const d = await bundle();
    assert.equal(d.built, true);
    assert.equal(run(d.url).command, 'list v2');
  });

  it('rebuilds when an output file is missing', async () => {
    const a = await bundle();
    const manifest = JSON.parse(fs.readFileSync(path.join(root, '.strata', 'build', 'cli.json'), 'utf8')) as { outputs: string[]; entry: string };
    const chunk = manifest.outputs.find((f) => f !== manifest.entry)!;
    fs.rmSync(path.join(root, '.strata', 'build', chunk));
    const b = await bundle();
    assert.equal(b.built, true);
    assert.equal(b.url, a.url, 'the same sources give the same files');
    assert.ok(fs.existsSync(path.join(root, '.strata', 'build', chunk)));
    assert.equal(run(b.url).command, 'list v2');
  });

  it('reports a source that does not compile by file and line, and builds again once it is fixed', async () => {
    const good = fs.readFileSync(path.join(root, 'worker', 'commands', 'list.ts'), 'utf8');
    write('worker/commands/list.ts', 'export const command = (: string => ;\n');
    await assert.rejects(bundle(), (err: { errors?: { text: string; location?: { file: string; line: number } }[] }) => {
      assert.equal(err.errors?.[0]?.location?.file, 'worker/commands/list.ts');
      assert.equal(err.errors?.[0]?.location?.line, 1);
      return true;
    });
    write('worker/commands/list.ts', good);
    const fixed = await bundle();
    assert.equal(run(fixed.url).command, 'list v2');
  });

  it('deletes outputs of earlier builds once they are a day old, never the current ones', async () => {
    const dir = path.join(root, '.strata', 'build');
    const old = path.join(dir, 'cli-chunk-OLDOLD23.mjs');
    const recent = path.join(dir, 'cli-chunk-RECENT23.mjs');
    const other = path.join(dir, 'worker-main-0123456789ab.mjs');
    for (const f of [old, recent, other]) fs.writeFileSync(f, '');
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    for (const f of [old, other]) fs.utimesSync(f, twoDaysAgo, twoDaysAgo);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'cli.json'), 'utf8')) as { outputs: string[] };
    for (const f of manifest.outputs) fs.utimesSync(path.join(dir, f), twoDaysAgo, twoDaysAgo);

    const b = await bundle(true);
    assert.equal(b.built, true);
    assert.deepEqual([fs.existsSync(old), fs.existsSync(recent), fs.existsSync(other)], [false, true, true]);
    assert.ok(manifest.outputs.every((f) => fs.existsSync(path.join(dir, f))), 'the current build is kept');
    assert.equal(run(b.url).command, 'list v2');
  });
});
