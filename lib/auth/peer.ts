// The socket's address, carried from the HTTP server to route handlers and server actions, which
// Next.js gives none. installPeerStamp (run once per server process by instrumentation.ts) wraps the
// HTTP server's "request" event and writes req.socket.remoteAddress into a header named with a
// random suffix chosen at startup: the client cannot know the name, so cannot forge or pre-fill it,
// and if the stamp is not installed no header name is trusted at all (the address is "unknown").
import crypto from 'node:crypto';
import http from 'node:http';

const KEY = Symbol.for('strata.peerHeader');
type Holder = { [KEY]?: string };

export function peerAddress(headers: Headers): string | null {
  const name = (globalThis as Holder)[KEY];
  return name ? headers.get(name) : null;
}

export function installPeerStamp(): void {
  const holder = globalThis as Holder;
  if (holder[KEY]) return;
  const name = `x-strata-peer-${crypto.randomBytes(12).toString('hex')}`;
  holder[KEY] = name;
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function (this: http.Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'request') {
      const req = args[0] as http.IncomingMessage;
      req.headers[name] = req.socket?.remoteAddress ?? '';
    }
    return Reflect.apply(emit, this, [event, ...args]) as boolean;
  } as typeof emit;
}
