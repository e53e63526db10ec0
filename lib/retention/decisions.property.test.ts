// Properties of prune that must hold for any catalog, checked with fast-check.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BACKUP_STATUSES } from '../domain.ts';
import { compareNewestFirst, pruneDecisions, type PruneCandidate } from './decisions.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const SPAN = 400 * 86_400_000;

// Few tenants and coarse times so ties on started_at (shared dumps) actually occur.
const time = fc.integer({ min: 0, max: 40 }).map((k) => new Date(T0 + (k * SPAN) / 40));
const tenantIds = ['acme', 'globex', 'initech'];

const catalog = fc
  .record({
    removed: fc.record({ acme: fc.boolean(), globex: fc.boolean(), initech: fc.boolean() }),
    rows: fc.array(
      fc.record({
        tenantId: fc.constantFrom(...tenantIds),
        status: fc.constantFrom(...BACKUP_STATUSES),
        startedAt: fc.option(time, { nil: null, freq: 10 }),
        expiresAt: fc.option(time, { nil: null, freq: 8 }),
        legalHold: fc.integer({ min: 0, max: 4 }).map((n) => n === 0), // held 1 in 5
        hasObjects: fc.option(fc.boolean(), { nil: undefined }),
      }),
      { maxLength: 40 },
    ),
  })
  .map(({ removed, rows }): PruneCandidate[] =>
    rows.map((r, i) => ({
      ...r,
      id: `b${String(i).padStart(3, '0')}`,
      seq: i,
      tenantRemoved: removed[r.tenantId as keyof typeof removed],
    })),
  );
const now = time;

const deletedIds = (backups: PruneCandidate[], at: Date) =>
  new Set(pruneDecisions(backups, at).filter((d) => d.action === 'delete').map((d) => d.backup_id));

describe('pruneDecisions properties', () => {
  it('the newest completed backup of every active tenant is kept', () => {
    fc.assert(
      fc.property(catalog, now, (backups, at) => {
        const deleted = deletedIds(backups, at);
        for (const tenant of tenantIds) {
          const completed = backups.filter((b) => b.tenantId === tenant && b.status === 'completed' && !b.tenantRemoved);
          if (completed.length === 0) continue;
          const newest = [...completed].sort(compareNewestFirst)[0]!;
          assert.ok(!deleted.has(newest.id), `floor ${newest.id} of ${tenant} deleted`);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('backups on legal hold are never deleted', () => {
    fc.assert(
      fc.property(catalog, now, (backups, at) => {
        const deleted = deletedIds(backups, at);
        for (const b of backups) if (b.legalHold) assert.ok(!deleted.has(b.id));
      }),
      { numRuns: 500 },
    );
  });

  it('only expired completed backups and failed ones are deleted', () => {
    fc.assert(
      fc.property(catalog, now, (backups, at) => {
        const deleted = deletedIds(backups, at);
        for (const b of backups) {
          if (!deleted.has(b.id)) continue;
          const expired = b.status === 'completed' && b.expiresAt !== null && b.expiresAt.getTime() <= at.getTime();
          assert.ok(expired || b.status === 'failed', `${b.id} (${b.status}) deleted while not expired`);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('one decision per completed or failed backup, none for others', () => {
    fc.assert(
      fc.property(catalog, now, (backups, at) => {
        const ids = pruneDecisions(backups, at).map((d) => d.backup_id).sort();
        const want = backups.filter((b) => b.status === 'completed' || b.status === 'failed').map((b) => b.id).sort();
        assert.deepEqual(ids, want);
      }),
      { numRuns: 300 },
    );
  });

  it('deciding twice, or on shuffled input, gives the same answer', () => {
    fc.assert(
      fc.property(
        catalog.chain((backups) => fc.tuple(fc.constant(backups), fc.shuffledSubarray(backups, { minLength: backups.length }))),
        now,
        ([backups, shuffled], at) => {
          const first = pruneDecisions(backups, at);
          assert.deepEqual(pruneDecisions(backups, at), first);
          assert.deepEqual(pruneDecisions(shuffled, at), first);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('carrying out the deletes and deciding again deletes nothing more', () => {
    fc.assert(
      fc.property(catalog, now, (backups, at) => {
        const deleted = deletedIds(backups, at);
        const after = backups.map((b) => (deleted.has(b.id) ? { ...b, status: 'deleted' as const } : b));
        assert.equal(deletedIds(after, at).size, 0);
      }),
      { numRuns: 300 },
    );
  });
});
