// The two stream pieces the backup pipeline needs besides the spawned programs: a meter (sha256 +
// byte count of what flows through) and a tee to several uploads at the pace of the slowest one.
import { createHash, type Hash } from 'node:crypto';
import { PassThrough, Transform, Writable, type TransformCallback } from 'node:stream';

/** Pass-through that hashes (sha256) and counts every byte. */
export class HashMeter extends Transform {
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  /** Hex sha256 of everything seen; call once, after the stream ended. */
  digest(): string {
    return this.hash.digest('hex');
  }
}

/**
 * Pass-through that holds the stream to `bytesPerSecond` on average: after a chunk it waits until the
 * bytes so far are due at that rate, and the producer (pg_dump, and the server backend feeding it)
 * waits with it through backpressure. The clock and the wait are injectable for tests.
 */
export class RateLimit extends Transform {
  private started: number | undefined;
  private bytes = 0;

  constructor(
    private readonly bytesPerSecond: number,
    private readonly clock: { now(): number; sleep(ms: number): Promise<void> } = {
      now: () => performance.now(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    },
  ) {
    super();
    if (!(bytesPerSecond > 0)) throw new RangeError('RateLimit needs a positive rate');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const now = this.clock.now();
    this.started ??= now;
    const dueSoFar = this.started + (this.bytes / this.bytesPerSecond) * 1000;
    // At most one second of unused allowance: a slow stretch does not buy a long burst afterwards.
    if (dueSoFar < now - 1000) this.started += now - 1000 - dueSoFar;
    this.bytes += chunk.length;
    this.push(chunk);
    const wait = this.started + (this.bytes / this.bytesPerSecond) * 1000 - now;
    if (wait < 1) return callback();
    this.clock.sleep(wait).then(() => callback(), callback);
  }
}

/**
 * Writes every chunk to each branch and takes the next one only when every branch that asked for a
 * pause has drained: memory stays bounded by the branches' buffers, and the slowest upload sets the pace.
 * The branches end only after `beforeEnd` resolves (the producers' exit codes are known), so an upload
 * can never complete a truncated body; if it rejects, the tee fails and the branches are destroyed.
 */
export class Tee extends Writable {
  readonly branches: PassThrough[];

  constructor(
    count: number,
    private readonly beforeEnd: () => Promise<void>,
    highWaterMark = 1024 * 1024,
  ) {
    super({ highWaterMark });
    this.branches = Array.from({ length: count }, () => {
      const branch = new PassThrough({ highWaterMark });
      // A branch's error reaches its upload through the stream; never crash the process when the upload
      // has already stopped listening.
      branch.on('error', () => {});
      return branch;
    });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let waiting = 0;
    let settled = false;
    const cleanups: (() => void)[] = [];
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      for (const c of cleanups) c();
      callback(err);
    };
    for (const branch of this.branches) {
      if (branch.destroyed) return settle(new Error('an upload stopped reading the backup stream'));
      if (branch.write(chunk)) continue;
      waiting += 1;
      const onDrain = () => {
        waiting -= 1;
        if (waiting === 0) settle();
      };
      const onClose = () => settle(new Error('an upload stopped reading the backup stream'));
      branch.once('drain', onDrain);
      branch.once('close', onClose);
      cleanups.push(() => {
        branch.off('drain', onDrain);
        branch.off('close', onClose);
      });
    }
    if (waiting === 0) settle();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.beforeEnd().then(
      () => {
        for (const branch of this.branches) branch.end();
        callback();
      },
      (err: Error) => callback(err),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // After a normal finish (autoDestroy) the ended branches still hold data for their uploads: leave them.
    for (const branch of this.branches) {
      if (branch.destroyed || (!error && branch.writableEnded)) continue;
      branch.destroy(error ?? new Error('backup stream closed early'));
    }
    callback(error);
  }
}
