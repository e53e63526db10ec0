// The sign-in concurrency cap and bcrypt in a worker thread.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import bcrypt from 'bcryptjs';
import { comparePassword, SignInBusyError, withSignInSlot } from './password-check.ts';

describe('withSignInSlot', () => {
  it('runs at most `limit` at once; the excess waits, then is refused', async () => {
    let running = 0;
    let peak = 0;
    const hold = (ms: number) =>
      withSignInSlot(2, async () => {
        peak = Math.max(peak, ++running);
        await new Promise((r) => setTimeout(r, ms));
        running--;
        return 'ran';
      }, 100);
    const results = await Promise.allSettled([hold(400), hold(400), hold(10), hold(10)]);
    assert.equal(peak, 2);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'rejected']);
    for (const r of results.slice(2)) assert.ok((r as PromiseRejectedResult).reason instanceof SignInBusyError);
    // The slots are free again, and a waiter gets a slot handed over when one ends in time.
    const [a, b, c] = await Promise.all([hold(50), hold(50), hold(10)]);
    assert.deepEqual([a, b, c], ['ran', 'ran', 'ran']);
  });
});

describe('comparePassword', () => {
  it('checks bcrypt hashes off the event loop', async () => {
    const hash = await bcrypt.hash('right-password-123', 10);
    const before = performance.eventLoopUtilization();
    const results = await Promise.all([comparePassword('right-password-123', hash), comparePassword('wrong', hash), comparePassword('x', 'not a hash')]);
    const busy = performance.eventLoopUtilization(before).utilization;
    assert.deepEqual(results, [true, false, false]);
    // The event loop stayed mostly idle while the hashes ran: bcryptjs on the main thread keeps it
    // busy all along (utilization ~1, measured 1.0 here against 0.04 in the worker).
    assert.ok(busy < 0.5, `event loop utilization ${busy.toFixed(2)} while checking`);
  });
});
