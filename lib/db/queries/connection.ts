// The dashboard's database and configuration: read once per server process.
import { getDb, type Db } from '../client.ts';
import { loadConfig, type Config } from '../../env.ts';

export function appConfig(): Config {
  return loadConfig();
}

export function appDb(): Db {
  return getDb(loadConfig().DATABASE_URL);
}
