// The client address from trusted proxy hops: 0 ignores X-Forwarded-For entirely; N takes the N-th
// entry from the right; anything short or malformed falls back to the socket's peer.
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { addressFromHops, clientIp } from './ip.ts';
import { installPeerStamp } from './peer.ts';

describe('addressFromHops', () => {
  const peer = '10.0.0.9';
  it('0 hops: the socket peer, whatever the header says', () => {
    assert.equal(addressFromHops('203.0.113.7', peer, 0), peer);
    assert.equal(addressFromHops('1.1.1.1, 2.2.2.2', peer, 0), peer);
    assert.equal(addressFromHops(null, null, 0), 'unknown');
  });
  it('N hops: the N-th entry from the right', () => {
    assert.equal(addressFromHops('6.6.6.6, 203.0.113.7', peer, 1), '203.0.113.7');
    assert.equal(addressFromHops('6.6.6.6, 203.0.113.7, 10.1.1.1', peer, 2), '203.0.113.7');
    assert.equal(addressFromHops(' 2001:db8::1 ,10.1.1.1', peer, 2), '2001:db8::1');
    assert.equal(addressFromHops('[2001:db8::2]', peer, 1), '2001:db8::2');
  });
  it('fewer entries than hops, or a malformed entry: the socket peer', () => {
    assert.equal(addressFromHops('203.0.113.7', peer, 2), peer);
    assert.equal(addressFromHops('', peer, 1), peer);
    assert.equal(addressFromHops('1.1.1.1, not-an-ip', peer, 1), peer);
    assert.equal(addressFromHops('1.1.1.1, <script>', null, 1), 'unknown');
  });
  it('rotating the leftmost entries changes nothing with hops = 1', () => {
    const seen = new Set(Array.from({ length: 20 }, (_, i) => addressFromHops(`198.51.100.${i}, 203.0.113.7`, peer, 1)));
    assert.deepEqual([...seen], ['203.0.113.7']);
  });
});

describe('the peer stamp', () => {
  it('gives handlers the socket address, and a client cannot forge it', async () => {
    installPeerStamp();
    let seen: string[] = [];
    const server = http.createServer((req, res) => {
      const headers = new Headers(Object.entries(req.headers).map(([k, v]) => [k, String(v)] as [string, string]));
      seen = [clientIp(headers, 0), clientIp(headers, 1)];
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      // Every plausible name a client could try for the stamp header, plus a spoofed X-Forwarded-For.
      const res = await fetch(`http://127.0.0.1:${port}/`, {
        headers: { 'x-forwarded-for': '203.0.113.7', 'x-strata-peer': '6.6.6.6', 'x-real-ip': '6.6.6.6' },
      });
      await res.arrayBuffer();
      assert.equal(seen[0], '127.0.0.1', 'hops = 0: the socket');
      assert.equal(seen[1], '203.0.113.7', 'hops = 1: what the (trusted) proxy appended');
    } finally {
      server.close();
    }
  });
});
