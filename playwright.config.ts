// End-to-end tests against the real stack (e2e/global-setup.ts): PostgreSQL, s3rver, the B2 server,
// `next start` from the `next build` output, and a worker. Run: npx next build && npm run test:e2e
import { defineConfig } from '@playwright/test';
import { E2E_PORT } from './e2e/stack.ts';

export default defineConfig({
  testDir: './e2e',
  testMatch: /.*\.spec\.ts$/,
  globalSetup: './e2e/global-setup.ts',
  fullyParallel: false,
  workers: 1,
  timeout: 120_000,
  expect: { timeout: 20_000 },
  reporter: [['list']],
  // The README's screenshots come first, from the demo's tenants and backups on a fresh stack
  // (e2e/readme); every other spec runs after them (`--no-deps` skips them for a single spec).
  projects: [
    { name: 'readme', testMatch: /e2e\/readme\/.*\.spec\.ts$/ },
    { name: 'e2e', testIgnore: /e2e\/readme\//, dependencies: ['readme'] },
  ],
  use: {
    baseURL: `http://localhost:${E2E_PORT}`,
    trace: 'retain-on-failure',
    viewport: { width: 1280, height: 900 },
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
});
