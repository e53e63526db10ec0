#!/usr/bin/env node
// The `strata` CLI (package bin): plain node running the bundle of worker/cli.ts, built on first use
// and again whenever a source changed (worker/cli-bundle.mjs). No TypeScript compiler at run time.
import v8 from 'node:v8';

// The worker runs with --max-semi-space-size=1 (worker/launch.ts), a flag a bin cannot give node. V8
// reads this one whenever it would grow the young generation, so set before anything is loaded it
// keeps the young generation at its first 1 MB semi-space all the same: `strata backup --wait` (the
// job in this process when no worker is up) peaked at 114 MB instead of 141 MB (bench item 8, --quick),
// and `strata tenant list` used no more CPU.
v8.setFlagsFromString('--semi-space-growth-factor=1');

const { cliBundle } = await import('../cli-bundle.mjs');
let bundle;
try {
  bundle = await cliBundle();
} catch (err) {
  // esbuild's errors name file and line; anything else (e.g. .strata/build not writable) its message.
  const lines =
    Array.isArray(err?.errors) && err.errors.length > 0
      ? err.errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text))
      : [err instanceof Error ? err.message : String(err)];
  process.stderr.write(`strata: could not build the CLI: ${lines.join('\n  ')}\n`);
  process.exit(1);
}
await import(bundle);
