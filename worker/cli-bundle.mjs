// The `strata` CLI as a bundle run by plain node (worker/bin/strata.mjs): no TypeScript compiler at
// run time. Plain JavaScript, because it runs before anything could compile TypeScript.
//
// worker/cli.ts is bundled with esbuild into .strata/build/cli-<hash>.mjs plus chunks shared by the
// commands (code splitting: `strata tenant list` loads Drizzle, pg and zod, never the AWS SDK or the
// backup pipeline). The build is cached: .strata/build/cli.json records the SHA-256 of every source
// file the bundle was made from, and a start whose sources all hash the same runs the bundle as it is
// (≈ 10–30 ms of hashing); any change, or the first run in a fresh clone, rebuilds it (≈ 0.5–1 s).
//
// Two differences from the worker's bundle (worker/launch.ts):
// - drizzle-orm, zod and pg (with what they import) are bundled in: loaded from node_modules as
//   hundreds of separate modules they took about a third of the CLI's start-up CPU. Every other
//   package stays external, used from node_modules as it is (the AWS SDK, pino, esbuild, s3rver, …).
// - `import.meta.url` in Strata's own modules is replaced by that module's source file URL, so paths
//   computed from it (lib/db/migrate.ts → drizzle/, lib/services/s3.ts → s3rver-main.mjs,
//   worker/launch.ts → the repository root) mean what they mean in the sources.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '..');
/** Packages bundled in (with every package they import). */
const INLINED = new Set(['drizzle-orm', 'zod', 'pg']);
/** Optional imports of bundled packages that are not installed: left to fail at run time, as from node_modules. */
const OPTIONAL = new Set(['pg-native', 'cloudflare:sockets']);
const LOADERS = { '.ts': 'ts', '.mts': 'ts', '.tsx': 'tsx', '.js': 'js', '.mjs': 'js', '.json': 'json' };
/** Outputs of earlier builds are deleted once this old (a process started from one loads its chunks within milliseconds). */
const STALE_MS = 24 * 3600 * 1000;

const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');
const packageName = (spec) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');
const inNodeModules = (file) => file.split(/[\\/]/).includes('node_modules');

function layout(root, entry) {
  const name = path.basename(entry, path.extname(entry));
  const outDir = path.join(root, '.strata', 'build');
  return { root, entry: path.resolve(root, entry), name, outDir, manifest: path.join(outDir, `${name}.json`) };
}

/** What decides the bundle besides the sources: this file (the build options), the checkout's place (the import.meta.url literals), esbuild's version. */
function buildKey(root) {
  return sha256([fs.readFileSync(SELF, 'utf8'), root, fs.readFileSync(path.join(root, 'node_modules', 'esbuild', 'package.json'), 'utf8')].join('\0'));
}

/** The cached bundle when it was made from exactly the sources on disk, else null. */
function cached(l, key) {
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(l.manifest, 'utf8'));
  } catch {
    return null;
  }
  if (manifest.key !== key || !Array.isArray(manifest.inputs) || !Array.isArray(manifest.outputs)) return null;
  for (const [file, hash] of manifest.inputs) {
    try {
      if (sha256(fs.readFileSync(path.join(l.root, file))) !== hash) return null;
    } catch {
      return null;
    }
  }
  if (!manifest.outputs.every((file) => fs.existsSync(path.join(l.outDir, file)))) return null;
  return path.join(l.outDir, manifest.entry);
}

/**
 * Which packages stay external, and `import.meta.url` → the module's own source URL. Records the
 * SHA-256 of each of Strata's files as read, so an edit during the build makes the next start rebuild.
 */
function strataPlugin(root, hashes) {
  return {
    name: 'strata-cli',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('node:') || OPTIONAL.has(args.path)) return { path: args.path, external: true };
        // Inside a bundled package everything is bundled: its own dependencies may be nested in its node_modules.
        if (inNodeModules(args.importer) || INLINED.has(packageName(args.path))) return undefined;
        return { path: args.path, external: true };
      });
      build.onLoad({ filter: /.*/, namespace: 'file' }, (args) => {
        if (PG_STREAM.test(args.path)) return pgStream(args.path);
        if (inNodeModules(args.path)) return undefined;
        const loader = LOADERS[path.extname(args.path)];
        if (!loader) throw new Error(`the CLI bundle cannot load ${args.path}`);
        const source = fs.readFileSync(args.path);
        hashes.set(path.relative(root, args.path).split(path.sep).join('/'), sha256(source));
        const contents = source.toString('utf8').replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href));
        return { contents, loader };
      });
    },
  };
}

/** pg's lib/stream.js, which asks whether it runs in a Cloudflare Worker when first loaded. */
const PG_STREAM = /[\\/]node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/;
const CLOUDFLARE_PROBE = "typeof Response === 'function'";

/**
 * pg's Cloudflare probe builds a fetch `Response`, and on Node 20 the first `Response` loads undici:
 * ≈ 50 ms of a ≈ 300 ms `strata tenant list`. The CLI runs on Node only, so the probe is skipped (the
 * `navigator` check before it stays). A pg whose file no longer has the probe is bundled unchanged.
 */
function pgStream(file) {
  const source = fs.readFileSync(file, 'utf8');
  return { contents: source.replace(CLOUDFLARE_PROBE, 'false'), loader: 'js' };
}

/** Writes a file atomically unless it exists (names carry content hashes: a file is never rewritten). */
function writeOnce(file, contents) {
  if (fs.existsSync(file)) return;
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, contents);
  fs.renameSync(tmp, file);
}

/** For a file of a bundled package, that package's package.json (its version stands for its files). */
function packageJsonOf(input) {
  const parts = input.split('/');
  const at = parts.lastIndexOf('node_modules');
  const scoped = parts[at + 1].startsWith('@');
  return [...parts.slice(0, at + (scoped ? 3 : 2)), 'package.json'].join('/');
}

async function build(l, key) {
  const esbuild = await import('esbuild');
  const hashes = new Map();
  const result = await esbuild.build({
    absWorkingDir: l.root,
    entryPoints: [l.entry],
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir: l.outDir,
    entryNames: `${l.name}-[hash]`,
    chunkNames: `${l.name}-chunk-[hash]`,
    outExtension: { '.js': '.mjs' },
    // pg is CommonJS: its require() of node's modules needs a real require in an ES module.
    banner: { js: "import { createRequire as __strataRequire } from 'node:module'; const require = __strataRequire(import.meta.url);" },
    plugins: [strataPlugin(l.root, hashes)],
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  fs.mkdirSync(l.outDir, { recursive: true });
  for (const out of result.outputFiles) writeOnce(out.path, out.contents);

  const inputs = new Set(['package.json', 'tsconfig.json'].filter((f) => fs.existsSync(path.join(l.root, f))));
  for (const input of Object.keys(result.metafile.inputs)) inputs.add(inNodeModules(input) ? packageJsonOf(input) : input);
  const outputs = result.outputFiles.map((o) => path.relative(l.outDir, o.path));
  // Every dynamic import is an entry point of its own in the metafile: the entry is the one from l.entry.
  const [entryOut] = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint && path.resolve(l.root, o.entryPoint) === l.entry);
  const entry = path.relative(l.outDir, path.resolve(l.root, entryOut));
  const manifest = {
    key,
    entry,
    outputs,
    inputs: [...inputs].sort().map((file) => [file, hashes.get(file) ?? sha256(fs.readFileSync(path.join(l.root, file)))]),
  };
  const tmp = `${l.manifest}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(manifest, null, 1)}\n`);
  fs.renameSync(tmp, l.manifest);
  prune(l, new Set(outputs));
  return path.join(l.outDir, entry);
}

/** Deletes outputs of earlier builds of this entry once they are a day old. */
function prune(l, current) {
  const mine = new RegExp(`^${l.name}-(chunk-)?[A-Z0-9]+\\.mjs$`);
  for (const file of fs.readdirSync(l.outDir)) {
    if (!mine.test(file) || current.has(file)) continue;
    try {
      if (Date.now() - fs.statSync(path.join(l.outDir, file)).mtimeMs > STALE_MS) fs.rmSync(path.join(l.outDir, file), { force: true });
    } catch {
      // another build removed it first
    }
  }
}

/**
 * The bundle of `entry` (default worker/cli.ts) as a file URL, built first when a source changed since
 * the last build or it was never built; `built` says which. `rebuild` forces a build. `root` is the
 * repository (tests use a scratch one).
 */
export async function bundleFor({ root = ROOT, entry = 'worker/cli.ts', rebuild = false } = {}) {
  const l = layout(root, entry);
  const key = buildKey(root);
  const file = rebuild ? null : cached(l, key);
  if (file) return { url: pathToFileURL(file).href, built: false };
  return { url: pathToFileURL(await build(l, key)).href, built: true };
}

/** The CLI bundle's file URL (worker/bin/strata.mjs). */
export async function cliBundle() {
  return (await bundleFor()).url;
}
