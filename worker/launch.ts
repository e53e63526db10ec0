// How a worker process is started — `npm run worker`, the demo, the tests and the bench alike: node
// running the TypeScript through tsx, with a 1 MB young-generation semi-space. A backup streams its
// whole dump through the worker in small buffers; V8's default semi-space (up to 16 MB, grown under
// that churn) kept ≈ 35–45 MB more resident for no speed gain (bench item 2, 250 MB dump: peak RSS
// 235–243 → 196–208 MB, same time). The flag must be given at start: V8 ignores it set at run time.
export const WORKER_NODE_ARGS = ['--max-semi-space-size=1', '--import', 'tsx'] as const;
