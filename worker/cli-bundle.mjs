// The `strata` CLI as a bundle run by plain node (worker/bin/strata.mjs): no TypeScript compiler at
// run time. Plain JavaScript, because it runs before anything could compile TypeScript.
//
// worker/cli.ts is bundled with esbuild into .strata/build/cli-<hash>.mjs plus one chunk per command
// (code splitting: `strata tenant list` loads Drizzle, pg and zod, never the AWS SDK or the backup
// pipeline). The build is cached: .strata/build/cli.json records a SHA-256 of every source file the
// bundle was made from, and a start whose sources all hash the same runs the bundle as it is
// (≈ 10 ms of hashing); any change, or a first run in a fresh clone, rebuilds it (≈ 0.5–1 s).
//
// Differences from the worker's bundle (worker/launch.ts), both for start-up time or correctness:
// - drizzle-orm, zod and pg (with what they import) are bundled in: loading them as hundreds of
//   separate files from node_modules was a third of the CLI's start. Every other package stays
//   external, as node_modules has it (the AWS SDK, pino, esbuild, s3rver, …).
// - `import.meta.url` in Strata's own modules is replaced by that module's source file URL, so paths
//   computed from it (lib/db/migrate.ts → drizzle/, lib/services/s3.ts → s3rver-main.mjs,
//   worker/launch.ts → the repository root) mean what they mean under tsx.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '..');
const OUT_DIR = path.join(ROOT, '.strata', 'build');
const MANIFEST = path.join(OUT_DIR, 'cli.json');
const ENTRY = path.join(ROOT, 'worker', 'cli.ts');
/** Packages bundled into the CLI (with every package they import). */
const INLINED = new Set(['drizzle-orm', 'zod', 'pg']);
/** Optional imports of inlined packages that are not installed: left to fail at run time, as in node_modules. */
const OPTIONAL = new Set(['pg-native', 'cloudflare:sockets']);

const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');

/** What, besides the sources, decides the bundle: this file (the build options), the checkout's place (the import.meta.url literals), node_modules' esbuild. */
function buildKey() {
  return sha256([fs.readFileSync(SELF, 'utf8'), ROOT, fs.readFileSync(path.join(ROOT, 'node_modules', 'esbuild', 'package.json'), 'utf8')].join('\0'));
}

/** The cached bundle when it was made from exactly the sources on disk, else null. */
function cached(key) {
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(MANIFEST, 'utf8'));
  } catch {
    return null;
  }
  if (manifest.key !== key || !Array.isArray(manifest.inputs) || !Array.isArray(manifest.outputs)) return null;
  for (const [file, hash] of manifest.inputs) {
    try {
      if (sha256(fs.readFileSync(path.join(ROOT, file))) !== hash) return null;
    } catch {
      return null;
    }
  }
  if (!manifest.outputs.every((file) => fs.existsSync(path.join(OUT_DIR, file)))) return null;
  return path.join(OUT_DIR, manifest.entry);
}

const packageName = (spec) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');
const inNodeModules = (file) => file.split(path.sep).includes('node_modules');

const LOADERS = { '.ts': 'ts', '.mjs': 'js', '.js': 'js', '.json': 'json' };

/**
 * Which packages stay external, and `import.meta.url` → the module's own source URL. Records the
 * SHA-256 of each of Strata's files as read, so an edit during the build makes the next start rebuild.
 */
function strataPlugin(hashes) {
  return {
    name: 'strata-cli',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('node:') || OPTIONAL.has(args.path)) return { path: args.path, external: true };
        // Inside an inlined package everything is bundled: its own dependencies may be nested in its node_modules.
        if (inNodeModules(args.importer) || INLINED.has(packageName(args.path))) return undefined;
        return { path: args.path, external: true };
      });
      build.onLoad({ filter: /.*/, namespace: 'file' }, (args) => {
        if (inNodeModules(args.path)) return undefined;
        const loader = LOADERS[path.extname(args.path)];
        if (!loader) throw new Error(`the CLI bundle cannot load ${args.path}`);
        const source = fs.readFileSync(args.path);
        hashes.set(path.relative(ROOT, args.path).split(path.sep).join('/'), sha256(source));
        const contents = source.toString('utf8').replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href));
        return { contents, loader };
      });
    },
  };
}

/** Writes a file atomically unless it exists (names carry content hashes: a file is never rewritten). */
function writeOnce(file, contents) {
  if (fs.existsSync(file)) return;
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, contents);
  fs.renameSync(tmp, file);
}

async function build(key) {
  const esbuild = await import('esbuild');
  const hashes = new Map();
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [ENTRY],
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir: OUT_DIR,
    entryNames: 'cli-[hash]',
    chunkNames: 'cli-chunk-[hash]',
    outExtension: { '.js': '.mjs' },
    // pg is CommonJS: its require() of node's modules needs a real require in an ES module.
    banner: { js: "import { createRequire as __strataRequire } from 'node:module'; const require = __strataRequire(import.meta.url);" },
    plugins: [strataPlugin(hashes)],
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  fs.mkdirSync(OUT_DIR, { recursive: true });
  for (const out of result.outputFiles) writeOnce(out.path, out.contents);
  // Sources: each of Strata's files; for a bundled package, its package.json (its version) stands for its files.
  const inputs = new Set();
  for (const input of Object.keys(result.metafile.inputs)) {
    if (!inNodeModules(input)) inputs.add(input);
    else {
      const parts = input.split('/');
      const at = parts.lastIndexOf('node_modules');
      inputs.add([...parts.slice(0, at + 1), ...parts.slice(at + 1, parts[at + 1].startsWith('@') ? at + 3 : at + 2), 'package.json'].join('/'));
    }
  }
  for (const file of ['package.json', 'tsconfig.json']) inputs.add(file);
  const outputs = result.outputFiles.map((o) => path.relative(OUT_DIR, o.path));
  const entry = outputs.find((o) => o.startsWith('cli-') && !o.startsWith('cli-chunk-'));
  const manifest = {
    key,
    entry,
    outputs,
    inputs: [...inputs].sort().map((file) => [file, hashes.get(file) ?? sha256(fs.readFileSync(path.join(ROOT, file)))]),
  };
  const tmp = `${MANIFEST}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(manifest, null, 1)}\n`);
  fs.renameSync(tmp, MANIFEST);
  return path.join(OUT_DIR, entry);
}

/**
 * The CLI bundle's file URL, built first if a source changed since the last build (or never built).
 * `rebuild` forces a build.
 */
export async function cliBundle({ rebuild = false } = {}) {
  const key = buildKey();
  const file = (!rebuild && cached(key)) || (await build(key));
  return pathToFileURL(file).href;
}
