import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { describe, it } from 'node:test';
import { BACKGROUND_NICE, lowerOwnPriority, lowerPriority } from './priority.ts';

describe('background priority', () => {
  it('lowers a spawned program to nice 10, never raises one, and ignores one that has exited', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const before = os.getPriority(child.pid!);
      assert.ok(before < BACKGROUND_NICE, `the test runs at nice ${before}`);
      lowerPriority(child.pid);
      assert.equal(os.getPriority(child.pid!), BACKGROUND_NICE);
      // never raises a priority
      os.setPriority(child.pid!, 15);
      lowerPriority(child.pid);
      assert.equal(os.getPriority(child.pid!), 15);
    } finally {
      child.kill();
    }
    await new Promise((resolve) => child.once('close', resolve));
    assert.doesNotThrow(() => lowerPriority(child.pid));
    assert.doesNotThrow(() => lowerPriority(undefined));
  });

  it('lowers every thread of this process, and what it spawns afterwards inherits it', async () => {
    const threads = fs.readdirSync('/proc/self/task').map(Number);
    assert.ok(threads.length > 1, 'node runs several threads');
    lowerOwnPriority();
    for (const tid of threads) assert.equal(os.getPriority(tid), BACKGROUND_NICE, `thread ${tid}`);
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      assert.equal(os.getPriority(child.pid!), BACKGROUND_NICE);
    } finally {
      child.kill();
    }
  });
});
