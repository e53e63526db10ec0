// What the global setup started, shared with the specs through a JSON file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/** The dashboard's port for the e2e run: the one setting every e2e file reads (npm test picks a free one). */
export const E2E_PORT = Number(process.env.E2E_PORT ?? 3217);
export const STATE_FILE = path.join(os.tmpdir(), `strata-e2e-state-${E2E_PORT}.json`);

export const USERS = {
  admin: { email: 'admin@strata.test', password: 'admin-password-123' },
  operator: { email: 'operator@strata.test', password: 'operator-password-123' },
  viewer: { email: 'viewer@strata.test', password: 'viewer-password-123' },
} as const;

export const TENANTS = [
  { id: 'st-anne', name: 'St. Anne Hospital', schemaName: 'st_anne', plan: 'premium', patients: 300 },
  { id: 'north-clinic', name: 'North Valley Clinic', schemaName: 'North Valley "Clinic"', plan: 'advanced', patients: 150 },
  { id: 'harbor-care', name: 'Harbor Care', schemaName: 'harbor_care', plan: 'basic', patients: 50 },
] as const;

export interface E2EState {
  databaseUrl: string;
  baseURL: string;
  /** The stack's temp dir (next.log, worker.log, the keys the services wrote). */
  dir: string;
  tokens: Record<'admin' | 'operator' | 'viewer', string>;
  /** The stack's environment (secrets included: the file is 0600 and removed at teardown). */
  env: Record<string, string>;
}

export function readState(): E2EState {
  return JSON.parse(fs.readFileSync(STATE_FILE, 'utf8')) as E2EState;
}

export async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: readState().databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}
