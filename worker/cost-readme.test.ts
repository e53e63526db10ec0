// The README's Cost figures are what `strata cost simulate` prints: every `$ strata …` line between
// `<!-- cost-simulate -->` and `<!-- /cost-simulate -->` is run through the package bin, and every
// output line quoted under it must be a line of what it printed (the simulation is deterministic).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from '../scripts/readme-results.ts';

const run = promisify(execFile);

/** Each quoted command with the output lines quoted under it. */
export function quotedRuns(readme: string): { args: string[]; lines: string[] }[] {
  const block = /<!-- cost-simulate -->\n```\n([\s\S]*?)```\n<!-- \/cost-simulate -->/.exec(readme);
  if (!block) throw new Error('README.md has no <!-- cost-simulate --> block');
  const runs: { args: string[]; lines: string[] }[] = [];
  for (const line of block[1]!.trimEnd().split('\n')) {
    if (line.startsWith('$ strata ')) runs.push({ args: line.slice('$ strata '.length).split(' '), lines: [] });
    else if (runs.length === 0) throw new Error(`output before any command: ${line}`);
    else runs[runs.length - 1]!.lines.push(line);
  }
  return runs;
}

describe("README's cost figures", () => {
  // The defaults the README states: list prices, UTC, the drill's default sample.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^STRATA_(PRICES_JSON|TIMEZONE|DRILL_SAMPLE)$/.test(k))) as NodeJS.ProcessEnv;
  const strata = async (args: string[]) => (await run(process.execPath, ['worker/bin/strata.mjs', ...args], { cwd: ROOT, env })).stdout;
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

  it('every quoted command prints every line quoted under it', async () => {
    const runs = quotedRuns(readme);
    assert.ok(runs.length >= 2 && runs.every((r) => r.args[0] === 'cost' && r.args[1] === 'simulate' && r.lines.length > 0), 'cost simulate commands, each with output');
    for (const r of runs) {
      const printed = new Set((await strata(r.args)).split('\n'));
      for (const line of r.lines) assert.ok(printed.has(line), `\`strata ${r.args.join(' ')}\` does not print:\n${line}`);
    }
  });

  it("the JSON summary the README quotes for issue 14's command", async () => {
    const quoted = /"steady_state_savings_percent": (\d+\.\d+)…/.exec(readme);
    assert.ok(quoted, 'README quotes the JSON figure');
    const args = 'cost simulate --tenants 10 --size-gb 50 --tier premium --months 24 --preset cost-optimized --json'.split(' ');
    const figure = String(JSON.parse(await strata(args)).summary.steady_state_savings_percent);
    assert.ok(figure.startsWith(quoted[1]!), `${figure} does not start with ${quoted[1]}`);
    assert.ok(Number(figure) >= 70, 'the target: ≥ 70%');
  });

  it('a quoted line that the command does not print is caught', () => {
    const runs = quotedRuns('<!-- cost-simulate -->\n```\n$ strata cost simulate --x 1\n  a line\n```\n<!-- /cost-simulate -->');
    assert.deepEqual(runs, [{ args: ['cost', 'simulate', '--x', '1'], lines: ['  a line'] }]);
    assert.throws(() => quotedRuns('no block'), /no <!-- cost-simulate --> block/);
  });
});
