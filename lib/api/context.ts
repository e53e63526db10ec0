// The dashboard's context: the database, the configuration and the object stores of this server
// process, built once from the environment at the entry points (pages, server actions, routes) and
// passed down explicitly. Operations take what they use ({ db } or { db, stores }); none reaches for
// a process-wide singleton itself, so the CLI hands them its own (docs/design.md §0).
import type { Db } from '../db/client.ts';
import { appConfig, appDb } from '../db/queries/connection.ts';
import type { Config } from '../env.ts';
import { createStores, type Stores } from '../storage/registry.ts';

export interface AppContext {
  db: Db;
  config: Config;
  stores: Stores;
}

let stores: Stores | undefined;

/** The dashboard's context (clients are reused, never made per call). */
export function appContext(): AppContext {
  const config = appConfig();
  stores ??= createStores(config);
  return { db: appDb(), config, stores };
}
