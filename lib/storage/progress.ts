// Upload progress for PutOptions.onProgress: "the total bytes sent so far, at most a few times a second".
export interface ProgressReporter {
  /** Bytes sent so far; reported unless the last report was less than the interval ago. */
  report(bytesSent: number): void;
  /** The final count, always reported. */
  finish(bytesSent: number): void;
}

export function progressReporter(onProgress: ((bytesSent: number) => void) | undefined, intervalMs = 250): ProgressReporter {
  let last = 0;
  let lastValue = -1;
  const emit = (n: number) => {
    if (n === lastValue) return;
    lastValue = n;
    last = Date.now();
    onProgress?.(n);
  };
  return {
    report(n) {
      if (Date.now() - last >= intervalMs && n > lastValue) emit(n);
    },
    finish(n) {
      emit(n);
    },
  };
}
