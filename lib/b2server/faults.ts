// Test hooks, all off by default: injected 503s for uploads and added latency for every call.

export class Faults {
  private failUploads = 0;
  latencyMs = 0;

  failNextUploads(n: number): void {
    this.failUploads = Math.max(0, Math.floor(n));
  }

  /** True when this upload must answer 503 (and uses up one of the injected failures). */
  takeUploadFailure(): boolean {
    if (this.failUploads <= 0) return false;
    this.failUploads--;
    return true;
  }

  pendingUploadFailures(): number {
    return this.failUploads;
  }

  setLatencyMs(ms: number): void {
    this.latencyMs = Math.max(0, Math.floor(ms));
  }

  async delay(): Promise<void> {
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
  }
}
