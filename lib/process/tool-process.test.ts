import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { describe, it } from 'node:test';
import { BACKGROUND_NICE } from './priority.ts';
import { runTool, startTool, ToolFailedError } from './tool-process.ts';

const SH = { command: 'sh', aptPackage: 'dash' };
/** Field 6 of /proc/<pid>/stat: the session id. */
const sessionOf = (pid: number | 'self') => Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[3]);

describe('spawned programs', () => {
  it('run at nice 10 in the caller’s session, and stop() ends them as ours', async () => {
    const tool = startTool(SH, ['-c', 'sleep 30']);
    try {
      assert.ok(os.getPriority() < BACKGROUND_NICE, `the test runs at nice ${os.getPriority()}`);
      assert.equal(os.getPriority(tool.child.pid!), BACKGROUND_NICE);
      assert.equal(sessionOf(tool.child.pid!), sessionOf('self'), 'no session of its own (its own scheduler autogroup)');
    } finally {
      tool.stop();
    }
    const err = await tool.exited.then(() => null, (e: unknown) => e);
    assert.ok(err instanceof ToolFailedError);
    assert.equal(err.exitSignal, 'SIGTERM');
    assert.equal(tool.stopped, true);
  });

  it('a non-zero exit rejects with the exit code and stderr, secrets stripped', async () => {
    const tool = startTool(SH, ['-c', 'echo "connect as admin:hunter2 failed" >&2; exit 3'], { redact: (t) => t.replaceAll('hunter2', '***') });
    const err = await tool.exited.then(() => null, (e: unknown) => e);
    assert.ok(err instanceof ToolFailedError);
    assert.equal(err.message, 'sh exited with code 3: connect as admin:*** failed');
    assert.equal(tool.stderr(), 'connect as admin:*** failed');
  });

  it('an abort signal stops the program; a missing program is reported, not thrown', async () => {
    const abort = new AbortController();
    const tool = startTool(SH, ['-c', 'sleep 30'], { signal: abort.signal });
    abort.abort();
    await assert.rejects(tool.exited, (e: ToolFailedError) => e.exitSignal === 'SIGTERM' && tool.stopped);
    const missing = startTool({ command: 'strata-no-such-program', aptPackage: 'none' }, []);
    await assert.rejects(missing.exited, /strata-no-such-program could not be started: .*ENOENT/);
  });

  it('runTool returns stdout; a program started without a stdin pipe has no stdin to write', async () => {
    assert.equal(await runTool(SH, ['-c', 'printf "%s" "$0-ok"', 'strata']), 'strata-ok');
    const tool = startTool(SH, ['-c', 'exit 0'], { stdin: 'ignore' });
    assert.throws(() => tool.stdin, /sh was started without a stdin pipe/);
    await tool.exited;
  });
});
