// The dashboard's object stores: one set per server process (clients are reused, never per call).
import { appConfig } from '../../db/queries/connection.ts';
import { createStores, type Stores } from '../../storage/registry.ts';

let stores: Stores | undefined;

export function appStores(): Stores {
  stores ??= createStores(appConfig());
  return stores;
}
