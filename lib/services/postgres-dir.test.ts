// "Delete .strata/ to start over" (issue 12): the demo's cluster lives in .strata/ when the
// postgres OS user can reach it, and is otherwise bound to .strata/ so a deleted one starts over.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { persistentClusterDir, postgresCanReach } from './postgres.ts';

describe('the demo cluster directory', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-pgdir-'));
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  // A user that owns nothing here: only the "other" permission bits decide for it.
  const stranger = { uid: 4_000_000, gid: 4_000_000 };

  it('is .strata/postgres when the postgres user can traverse the path', () => {
    const open = path.join(root, 'open');
    fs.mkdirSync(open, { mode: 0o755 });
    fs.chmodSync(root, 0o755);
    const state = path.join(open, '.strata');
    assert.equal(postgresCanReach(path.join(state, 'postgres'), stranger), true);
    assert.equal(persistentClusterDir(state, stranger), path.join(state, 'postgres'));
    assert.equal(persistentClusterDir(state, {}), path.join(state, 'postgres'), 'not root: always inside');
  });

  it('is bound to .strata/ when a mode-700 parent (a checkout under /root) blocks it, and starts over once .strata/ is deleted', () => {
    const closed = path.join(root, 'closed');
    fs.mkdirSync(closed, { mode: 0o700 });
    fs.chmodSync(closed, 0o700);
    const state = path.join(closed, '.strata');
    assert.equal(postgresCanReach(path.join(state, 'postgres'), stranger), false);
    const first = persistentClusterDir(state, stranger);
    assert.ok(!first.startsWith(closed), first);
    fs.mkdirSync(path.join(first, 'data'));
    fs.writeFileSync(path.join(first, 'data', 'PG_VERSION'), '16');
    assert.equal(persistentClusterDir(state, stranger), first, 'the same cluster while .strata/ lives');
    assert.ok(fs.existsSync(path.join(first, 'data', 'PG_VERSION')), 'kept while .strata/ lives');

    fs.rmSync(state, { recursive: true, force: true });
    const second = persistentClusterDir(state, stranger);
    assert.equal(second, first);
    assert.equal(fs.existsSync(path.join(second, 'data')), false, 'the old catalog is gone with .strata/');
    fs.rmSync(second, { recursive: true, force: true });
  });
});
