import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tenantOffsetMinutes } from './offset.ts';

describe('tenantOffsetMinutes', () => {
  it('is stable and inside [0, window)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/), fc.integer({ min: 1, max: 1440 }), (id, window) => {
        const o = tenantOffsetMinutes(id, window);
        assert.ok(Number.isInteger(o) && o >= 0 && o < window);
        assert.equal(tenantOffsetMinutes(id, window), o);
      }),
    );
  });

  it('is pinned: the same tenant keeps its minute across releases', () => {
    // From `printf acme | sha256sum` = 822b33ad87c1…: 0x822b33ad87c1 mod 120 = 65, mod 1440 = 1025;
    // globex: 5bc1a08d28e4… → 28, 388 (worked out with python, not with this code). If these
    // change, every tenant's start time moves.
    assert.equal(tenantOffsetMinutes('acme', 120), 65);
    assert.equal(tenantOffsetMinutes('acme', 1440), 1025);
    assert.equal(tenantOffsetMinutes('globex', 120), 28);
    assert.equal(tenantOffsetMinutes('globex', 1440), 388);
  });

  it('spreads tenants over the window', () => {
    const counts = new Array(12).fill(0);
    for (let i = 0; i < 12_000; i++) counts[Math.floor(tenantOffsetMinutes(`tenant-${i}`, 120) / 10)]++;
    // 1,000 expected per 10-minute bucket; a uniform hash stays well within ±15 %.
    for (const c of counts) assert.ok(c > 850 && c < 1150, String(counts));
  });

  it('window 0 or 1: no spread; negative or fractional: refused', () => {
    assert.equal(tenantOffsetMinutes('acme', 0), 0);
    assert.equal(tenantOffsetMinutes('acme', 1), 0);
    assert.throws(() => tenantOffsetMinutes('acme', -5), RangeError);
    assert.throws(() => tenantOffsetMinutes('acme', 1.5), RangeError);
  });
});
