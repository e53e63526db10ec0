// The client's address for sign-in throttling and the audit log.
//
// Next.js 16 gives route handlers and server actions no socket address (NextRequest.ip was removed
// in 15), and `next start` only fills X-Forwarded-For when the client sent none — so that header
// alone is whatever the client wants. lib/auth/peer.ts (installed by instrumentation.ts) stamps the
// socket's address into a header whose name is random per process, so a client cannot forge it.
// With STRATA_TRUSTED_PROXY_HOPS = N > 0, the N proxies in front each append the address they saw to
// X-Forwarded-For, so the N-th entry from the right is the one the outermost trusted proxy saw.
// The per-email limit (lib/auth/throttle.ts) does not depend on any of this: a wrong address only
// mislabels the audit row.
import net from 'node:net';
import { peerAddress } from './peer.ts';

const normalize = (entry: string | undefined): string | null => {
  const value = entry?.trim().replace(/^\[(.*)\]$/, '$1');
  return value && net.isIP(value) ? value : null;
};

/**
 * The address `hops` trusted proxies vouch for: the socket's peer for 0, otherwise the hops-th
 * entry from the right of X-Forwarded-For (all header lines, in order). A header with fewer entries
 * (a request that bypassed the proxies) or a malformed entry gives the socket's peer.
 */
export function addressFromHops(forwardedFor: string | null, peer: string | null, hops: number): string {
  const fallback = normalize(peer ?? undefined) ?? 'unknown';
  if (hops <= 0 || !forwardedFor) return fallback;
  const entries = forwardedFor.split(',').map((e) => e.trim());
  if (entries.length < hops) return fallback;
  return normalize(entries[entries.length - hops]) ?? fallback;
}

export function clientIp(headers: Headers, hops: number): string {
  return addressFromHops(headers.get('x-forwarded-for'), peerAddress(headers), hops);
}
