// What every handler gets: the server's state and the request it is answering.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Faults } from './faults.ts';
import type { Store } from './store.ts';
import type { Tokens } from './tokens.ts';

export interface ServerState {
  store: Store;
  tokens: Tokens;
  faults: Faults;
  keyId: string;
  key: string;
}

export type ApiVersion = 'v1' | 'v2';

export interface Call {
  state: ServerState;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  version: ApiVersion;
  /** Base URL the client reached us at, for the apiUrl / downloadUrl / uploadUrl we hand out. */
  base: string;
}
