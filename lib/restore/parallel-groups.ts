// Independent groups of archive entries for the staged restore (staged.ts): sets of entries with no
// dependency between them, each small enough for one transaction's share of the lock table, so that
// several of them can be replayed at once, each in one transaction. On two cores this is what makes
// a staged restore faster than one big transaction, where `pg_restore -j` (a transaction per entry)
// is not: measured on a 1,600-table tenant, two single-transaction halves of the data and indexes took
// 3.2–3.9 s against 4.8–6.2 s for `pg_restore -j 2` and 6.2 s for one transaction.
//
// Two uses:
// - together (replayGroups, tried first): a table's definition with its data, indexes and grants, so
//   that each group creates, loads and indexes its tables in one transaction as a single-transaction
//   replay does (the bench's 1,600-table in-place restore: 8.4 s against 9.3 s with definitions and
//   data in two phases, medians of two 3-run bench runs made one after the other);
// - data and post-data (dataGroups), after definitions replayed batch by batch: each entry goes with
//   the relations it belongs to (its TABLE, SEQUENCE or MATERIALIZED VIEW entry, already created)
//   and with the entries it depends on.
// Either way only kinds whose effect stays on their own relations are grouped; the rest (foreign
// keys, which read another table; materialized view data, which reads others; anything unknown) is
// left for a final run after every group has committed.
// Pure: TOC entries in, dump ids out.
import type { TocEntry } from './archive-toc.ts';
import { archiveLockNeed } from './lock-budget.ts';

/** Post-data (and unsectioned) kinds that touch only the relation they belong to. */
const SELF_CONTAINED = new Set([
  'TABLE DATA',
  'SEQUENCE SET',
  'INDEX',
  'INDEX ATTACH',
  'CONSTRAINT',
  'CHECK CONSTRAINT',
  'TRIGGER',
  'POLICY',
  'ROW SECURITY',
  'STATISTICS',
  'ACL',
  'COMMENT',
]);
/** Entries whose relation data-and-post-data entries belong to, with the locks that relation takes. */
const RELATION_LOCKS: Record<string, number> = { TABLE: 3, 'MATERIALIZED VIEW': 3, SEQUENCE: 1 };

export interface IndependentGroups {
  /** Each group's dump ids in archive order; no entry of one group depends on an entry of another. */
  groups: number[][];
  /** Entries left for one run after the groups (archive order). */
  after: number[];
}

class UnionFind {
  private readonly parent = new Map<number, number>();
  find(x: number): number {
    let root = x;
    while (this.parent.has(root) && this.parent.get(root) !== root) root = this.parent.get(root)!;
    this.parent.set(x, root);
    return root;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(rb, ra);
  }
}

/**
 * Packs components (in archive order) into groups of at most `maxLocks`, as many groups as needed
 * and a multiple of `jobs`, each time into the least-loaded group: balanced rounds of `jobs` at once.
 * Null when one component alone is larger than `maxLocks`.
 */
function pack(components: { ids: number[]; weight: number }[], maxLocks: number, jobs: number): number[][] | null {
  if (components.some((c) => c.weight > maxLocks)) return null;
  const total = components.reduce((n, c) => n + c.weight, 0);
  for (let count = jobs * Math.max(1, Math.ceil(total / (jobs * maxLocks))); ; count += jobs) {
    const groups = Array.from({ length: count }, () => ({ ids: [] as number[], weight: 0 }));
    for (const c of components) {
      const g = groups.reduce((best, x) => (x.weight < best.weight ? x : best));
      g.ids.push(...c.ids);
      g.weight += c.weight;
    }
    if (groups.every((g) => g.weight <= maxLocks)) return groups.filter((g) => g.ids.length > 0).map((g) => g.ids);
  }
}

function componentsOf(ids: number[], uf: UnionFind, weight: (id: number) => number): { ids: number[]; weight: number }[] {
  const byRoot = new Map<number, { ids: number[]; weight: number }>();
  for (const id of ids) {
    const root = uf.find(id);
    const c = byRoot.get(root) ?? { ids: [], weight: 0 };
    c.ids.push(id);
    c.weight += weight(id);
    byRoot.set(root, c);
  }
  return [...byRoot.values()];
}

/**
 * The entries of `rest` that may go in a group: a self-contained kind that belongs to a relation or to
 * another such entry and depends on no entry left for after; with `oneRelation`, also on one relation
 * at most (a policy that reads another table would link the groups of both). Fixed point: leaving one
 * out may leave out those that depend on it. `relation`: the relation entry a dependency names.
 */
function groupable(byId: Map<string, TocEntry>, rest: readonly number[], oneRelation: boolean) {
  const restSet = new Set(rest.map(String));
  const relation = (id: string) => {
    const e = byId.get(id);
    return e && !restSet.has(id) && e.desc !== null && e.desc in RELATION_LOCKS ? e : undefined;
  };
  const grouped = new Set(
    rest.filter((id) => {
      const e = byId.get(String(id));
      return !!e && SELF_CONTAINED.has(e.desc ?? '') && e.deps.some((d) => relation(d) || restSet.has(d));
    }),
  );
  for (let changed = true; changed; ) {
    changed = false;
    for (const id of grouped) {
      const e = byId.get(String(id))!;
      const ok =
        e.deps.every((d) => !restSet.has(d) || grouped.has(Number(d))) &&
        e.deps.some((d) => relation(d) || grouped.has(Number(d))) &&
        (!oneRelation || new Set(e.deps.filter((d) => relation(d))).size <= 1);
      if (!ok) {
        grouped.delete(id);
        changed = true;
      }
    }
  }
  return { grouped, relation };
}

/**
 * Data and post-data entries (`rest`, in archive order) in independent groups by the relations they
 * belong to (`all`: every entry of the archive, for those relations), and the entries left for after.
 */
export function dataGroups(all: readonly TocEntry[], rest: readonly number[], maxLocks: number, jobs: number): IndependentGroups {
  const byId = new Map(all.map((e) => [String(e.dumpId), e]));
  const { grouped, relation } = groupable(byId, rest, false);
  const uf = new UnionFind();
  // Relations are nodes too (their dump ids): a child table goes with its parent, so that an index on a
  // partitioned table and the COPY into its partitions are never in two transactions at once.
  const relationsOf = new Map<number, number[]>();
  for (const id of grouped) {
    const e = byId.get(String(id))!;
    const rels: number[] = [];
    for (const d of e.deps) {
      if (grouped.has(Number(d))) uf.union(id, Number(d));
      const r = relation(d);
      if (r) {
        uf.union(id, r.dumpId);
        rels.push(r.dumpId);
        for (const p of r.deps) if (relation(p)) uf.union(r.dumpId, Number(p));
      }
    }
    relationsOf.set(id, rels);
  }
  // A component's locks: each relation it writes once, plus the relations its entries create (indexes).
  const components = componentsOf([...grouped], uf, (id) => archiveLockNeed([byId.get(String(id))!]) - archiveLockNeed([]));
  for (const c of components) {
    const rels = new Set(c.ids.flatMap((id) => relationsOf.get(id)!));
    c.weight += [...rels].reduce((n, r) => n + RELATION_LOCKS[byId.get(String(r))!.desc!]!, 0);
  }
  const order = new Map(rest.map((id, i) => [id, i]));
  const byOrder = (a: number, b: number) => order.get(a)! - order.get(b)!;
  components.sort((a, b) => order.get(a.ids[0]!)! - order.get(b.ids[0]!)!);
  // A component too large for one group's share is left for after, where pg_restore -j commits entry by entry.
  const fits = components.filter((c) => c.weight <= maxLocks);
  const groups = (pack(fits, maxLocks, jobs) ?? []).map((g) => g.sort(byOrder));
  const inGroups = new Set(groups.flat());
  return { groups, after: rest.filter((id) => !inGroups.has(id)) };
}

/** Kinds replayed before the groups when they depend on no relation of the archive. */
const SHARED_KINDS = new Set(['TYPE', 'SHELL TYPE', 'DOMAIN', 'FUNCTION', 'PROCEDURE', 'AGGREGATE', 'COLLATION', 'OPERATOR']);

export interface TogetherGroups extends IndependentGroups {
  /** Types, domains, functions, … that depend on no relation: replayed first, committed before the groups. */
  first: number[];
}

/**
 * Definitions (`definitions`, pre-data) and the data and post-data entries (`rest`) that go with them,
 * in independent groups, and the entries left for after every group has committed (as in dataGroups).
 * Any dependency inside the set links two entries. Types, domains and functions that depend on no
 * relation go `first` instead, so that an enum or a trigger function every table uses does not link
 * them all (unless they alone need more than `maxLocks`); entries on two relations or more (a policy
 * that reads another table) go after. Null when one linked set needs more than `maxLocks` (a view
 * over every table): the caller then replays the definitions first and the data after them.
 */
export function replayGroups(
  all: readonly TocEntry[],
  definitions: readonly number[],
  rest: readonly number[],
  maxLocks: number,
  jobs: number,
): TogetherGroups | null {
  const byId = new Map(all.map((e) => [String(e.dumpId), e]));
  const entry = (id: number) => byId.get(String(id))!;
  const weight = (id: number) => archiveLockNeed([entry(id)]) - archiveLockNeed([]);
  const order = new Map(all.map((e, i) => [e.dumpId, i]));
  const byOrder = (a: number, b: number) => order.get(a)! - order.get(b)!;
  const inDefinitions = new Set(definitions);
  // Shared: a fixed point, since leaving one out (it depends on a table) leaves out what depends on it.
  const shared = new Set(definitions.filter((id) => SHARED_KINDS.has(entry(id).desc ?? '')));
  for (let changed = true; changed; ) {
    changed = false;
    for (const id of shared) {
      if (entry(id).deps.some((d) => inDefinitions.has(Number(d)) && !shared.has(Number(d)))) {
        shared.delete(id);
        changed = true;
      }
    }
  }
  if ([...shared].reduce((n, id) => n + weight(id), 0) > maxLocks) shared.clear();
  // An entry on two relations or more runs after the groups, with what depends on it.
  const { grouped } = groupable(byId, rest, true);
  const ids = new Set([...definitions.filter((id) => !shared.has(id)), ...grouped]);
  const uf = new UnionFind();
  for (const id of ids) for (const d of entry(id).deps) if (ids.has(Number(d))) uf.union(id, Number(d));
  const groups = pack(componentsOf([...ids].sort(byOrder), uf, weight), maxLocks, jobs);
  if (!groups) return null;
  return { first: [...shared].sort(byOrder), groups: groups.map((g) => g.sort(byOrder)), after: rest.filter((id) => !grouped.has(id)) };
}
