// The README quotes the committed results files, never figures typed by hand: between
// `<!-- results: <file> -->` and `<!-- /results -->` it holds exactly that file's content.
// `npm run readme:results` rewrites those blocks from the files (after `npm run bench` or
// `npm run test:chaos`); scripts/readme-results.test.ts (in `npm test`) fails when they differ.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BLOCK = /(<!-- results: ([^\s]+) -->\n)([\s\S]*?)(<!-- \/results -->)/g;

/** Each block's file and what the README holds for it now. */
export function readmeBlocks(readme: string): { file: string; quoted: string }[] {
  return [...readme.matchAll(BLOCK)].map((m) => ({ file: m[2]!, quoted: m[3]! }));
}

/** The README with every block holding its file's current content. */
export function withResults(readme: string, read: (file: string) => string): string {
  return readme.replace(BLOCK, (_all, open: string, file: string, _old: string, close: string) => `${open}${read(file).trimEnd()}\n${close}`);
}

export const readResult = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const readmePath = path.join(ROOT, 'README.md');
  const before = fs.readFileSync(readmePath, 'utf8');
  const after = withResults(before, readResult);
  fs.writeFileSync(readmePath, after);
  const blocks = readmeBlocks(after).map((b) => b.file);
  process.stdout.write(`README.md: ${blocks.length} results block(s) (${blocks.join(', ')}) ${after === before ? 'already current' : 'rewritten'}\n`);
}
