// The README's figures are the committed results files' (issue 17): each results block holds exactly
// its file, and the Benchmarks and Reliability sections each quote theirs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { readmeBlocks, readResult, ROOT, withResults } from './readme-results.ts';

describe('README figures', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

  it('quotes bench/results.md and lib/reliability/results.md', () => {
    assert.deepEqual(readmeBlocks(readme).map((b) => b.file).sort(), ['bench/results.md', 'lib/reliability/results.md']);
  });

  it('holds exactly the committed results (run `npm run readme:results` after a bench or chaos run)', () => {
    for (const block of readmeBlocks(readme)) assert.equal(block.quoted, `${readResult(block.file).trimEnd()}\n`, `${block.file} differs from its block in README.md`);
  });

  it('rewrites a stale block and leaves the rest of the text alone', () => {
    const stale = 'intro\n<!-- results: x.md -->\nold figure 1.0 s\n<!-- /results -->\noutro\n';
    assert.equal(withResults(stale, () => 'new figure 2.0 s\n\n'), 'intro\n<!-- results: x.md -->\nnew figure 2.0 s\n<!-- /results -->\noutro\n');
  });
});
