// Test code only: the environment for running pg_dump/psql by hand against the test cluster (forging
// dumps, fingerprints). The product never passes a password in the environment (lib/process/child-env.ts).
import { pgConnectionVars } from '../process/child-env.ts';

export function pgTestEnv(url: string, database?: string): NodeJS.ProcessEnv {
  const { vars, password } = pgConnectionVars(url);
  return {
    PATH: process.env.PATH ?? '',
    ...vars,
    ...(password !== undefined ? { PGPASSWORD: password } : {}),
    ...(database ? { PGDATABASE: database } : {}),
  } as unknown as NodeJS.ProcessEnv;
}
