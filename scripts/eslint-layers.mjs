// The layer rule (docs/design.md §0 "Layers"), run by `npm run lint` and so by `npm test`.
//
// Every source file belongs to a group (a folder of lib/, a top-level module of lib/, or an entry
// point folder), every group to a layer, and a layer may import only the layers listed for it:
//
//   entry points   app/ components/ worker/ scripts/ bench/ e2e/ (and the root config files)
//   test support   lib/testing lib/reliability lib/demo lib/compat
//   services       lib/chunks lib/files lib/backup lib/restore lib/prune lib/catalog lib/jobs lib/tenants lib/notify
//                  lib/doctor lib/views lib/scheduler lib/services lib/auth lib/api (and auth.ts)
//   adapters       lib/db lib/storage lib/process lib/b2server lib/crypto lib/audit.ts
//   rules (pure)   lib/retention lib/schedule lib/cost
//   vocabulary     lib/domain.ts lib/iso.ts lib/env.ts
//
// Rules and vocabulary import nothing that does I/O (no database, storage, process or network
// module). On top of the layers, no two groups may import each other, directly or through others
// (a cycle between folders). Tests (*.test.ts) are exempt from the layer rule: an integration test
// of a pure module starts a database.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const LAYERS = {
  vocabulary: { groups: ['lib/domain', 'lib/iso', 'lib/env'], may: ['vocabulary'] },
  rules: { groups: ['lib/retention', 'lib/schedule', 'lib/cost'], may: ['vocabulary', 'rules'] },
  adapters: { groups: ['lib/db', 'lib/storage', 'lib/process', 'lib/b2server', 'lib/audit', 'lib/crypto'], may: ['vocabulary', 'adapters'] },
  services: {
    groups: ['lib/chunks', 'lib/files', 'lib/backup', 'lib/restore', 'lib/prune', 'lib/catalog', 'lib/jobs', 'lib/tenants', 'lib/notify', 'lib/doctor', 'lib/views', 'lib/scheduler', 'lib/services', 'lib/auth', 'lib/api'],
    may: ['vocabulary', 'rules', 'adapters', 'services'],
  },
  support: { groups: ['lib/testing', 'lib/reliability', 'lib/demo', 'lib/compat'], may: ['vocabulary', 'rules', 'adapters', 'services', 'support', 'entry'] },
  entry: { groups: ['app', 'components', 'worker', 'scripts', 'bench', 'e2e'], may: ['vocabulary', 'rules', 'adapters', 'services', 'support', 'entry'] },
};
/** Packages and node modules that do I/O: not for rules or vocabulary. */
const IO = /^(node:)?(fs|fs\/promises|child_process|net|http|https|dgram|dns)$|^(pg|drizzle-orm|backblaze-b2|next|react|next-auth)(\/|$)|^@aws-sdk\//;
const PURE = new Set(['vocabulary', 'rules']);
const SOURCE = /\.(ts|tsx|mts|mjs)$/;
const IMPORT = /(?:import|export)[^'"`;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Data, not code (package.json for the version): outside the layers. */
const DATA = /\.json$/;
const rel = (file) => path.relative(ROOT, file).split(path.sep).join('/');
const isTest = (relPath) => /\.test\.tsx?$/.test(relPath);

/** The group of a repository path: `lib/<folder>`, `lib/<module>`, an entry folder, or a root file. */
function groupOf(relPath) {
  const parts = relPath.split('/');
  if (parts.length === 1) {
    const name = relPath.replace(/\.[^.]+$/, '');
    return name === 'auth' ? 'lib/auth' : name; // auth.ts is Auth.js's half of lib/auth; proxy.ts, *.config.*: entry points
  }
  if (parts[0] === 'lib') return parts.length === 2 ? `lib/${parts[1].replace(/\.[^.]+$/, '')}` : `lib/${parts[1]}`;
  return parts[0];
}
const LAYER_OF = new Map(Object.entries(LAYERS).flatMap(([name, l]) => l.groups.map((g) => [g, name])));

/** A specifier as a repository path (without resolving the extension), or null for a package. */
function resolve(fromRel, spec) {
  if (spec.startsWith('@/')) return spec.slice(2);
  if (spec.startsWith('.')) return path.posix.normalize(path.posix.join(path.posix.dirname(fromRel), spec));
  return null;
}

let graph;
/** group → Set(group), from every non-test source file (read once per lint run). */
function folderGraph() {
  if (graph) return graph;
  graph = new Map();
  const walk = (dir) => {
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const p = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!['node_modules', '.next', '.strata', '.git', 'drizzle', 'test-results'].includes(entry.name)) walk(p);
      } else if (SOURCE.test(entry.name) && !isTest(p) && !entry.name.endsWith('.d.ts')) {
        const from = groupOf(p);
        for (const m of fs.readFileSync(path.join(ROOT, p), 'utf8').matchAll(IMPORT)) {
          const target = resolve(p, m[1] ?? m[2]);
          if (!target || DATA.test(target)) continue;
          const to = groupOf(target);
          if (to === from) continue;
          if (!graph.has(from)) graph.set(from, new Set());
          graph.get(from).add(to);
        }
      }
    }
  };
  walk('');
  return graph;
}

/** A path of groups from `start` to `goal`, or null. */
function pathBetween(start, goal) {
  const g = folderGraph();
  const prev = new Map([[start, null]]);
  const queue = [start];
  while (queue.length) {
    const at = queue.shift();
    if (at === goal) {
      const out = [];
      for (let x = at; x !== null; x = prev.get(x)) out.unshift(x);
      return out;
    }
    for (const next of g.get(at) ?? []) {
      if (prev.has(next)) continue;
      prev.set(next, at);
      queue.push(next);
    }
  }
  return null;
}

const rule = {
  meta: { type: 'problem', docs: { description: 'one-way layers and no import cycles between folders (docs/design.md §0)' }, schema: [] },
  create(context) {
    const fromRel = rel(context.filename);
    if (fromRel.startsWith('..')) return {};
    const from = groupOf(fromRel);
    const fromLayer = LAYER_OF.get(from) ?? 'entry';
    const test = isTest(fromRel);
    const check = (node, spec) => {
      if (typeof spec !== 'string') return;
      const target = resolve(fromRel, spec);
      if (target !== null && DATA.test(target)) return;
      if (target === null) {
        if (!test && PURE.has(fromLayer) && IO.test(spec)) context.report({ node, message: `${from} is ${fromLayer} (pure): it may not import '${spec}', which does I/O` });
        return;
      }
      const to = groupOf(target);
      if (to === from) return;
      const toLayer = LAYER_OF.get(to) ?? 'entry';
      if (!test && !LAYERS[fromLayer].may.includes(toLayer)) {
        context.report({ node, message: `${from} (${fromLayer}) may not import ${to} (${toLayer}): layers import only downwards (docs/design.md §0)` });
        return;
      }
      if (!test) {
        const back = pathBetween(to, from);
        if (back) context.report({ node, message: `import cycle between folders: ${[from, ...back].join(' → ')}` });
      }
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};

export default { rules: { layers: rule } };
