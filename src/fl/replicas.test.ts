// The simulator's failover over coordinator replicas, on real sockets: a port nobody listens on (refused), and an
// HTTP server that cuts the connection of chosen requests (a replica killed mid-call).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplicaRoute, parseReplicaUrls } from './replicas.ts';

const listen = (server: Server) => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));

let live: Server;
let liveUrl: string;
let cutting: Server;
let cuttingUrl: string;
/** A URL whose port was just freed: connecting is refused. */
let deadUrl: string;
let cutRequests = 0;

beforeAll(async () => {
  live = createServer((req, res) => res.end(`${req.method} ${req.url}`));
  liveUrl = await listen(live);
  cutting = createServer((req) => {
    cutRequests++;
    req.socket.destroy();
  });
  cuttingUrl = await listen(cutting);
  const dead = createServer();
  deadUrl = await listen(dead);
  await new Promise((resolve) => dead.close(resolve));
});
afterAll(() => {
  live.close();
  cutting.close();
});

describe('ReplicaRoute', () => {
  it('moves any call from a replica that refuses the connection to the next one, and stays there', async () => {
    const route = new ReplicaRoute([liveUrl, deadUrl], 1);
    expect(route.url).toBe(deadUrl);
    const reply = await route.fetch('/api/enrol', { method: 'POST', body: 'x' }, false);
    expect(await reply.text()).toBe('POST /api/enrol');
    expect(route.url).toBe(liveUrl);
    expect(route.failovers).toBe(1);
    expect(route.repeated).toBe(0);
    await route.fetch('/again', {}, false);
    expect(route.failovers).toBe(1);
  });

  it('repeats a cut call elsewhere only when it is safe to repeat', async () => {
    const repeatable = new ReplicaRoute([cuttingUrl, liveUrl]);
    expect(await (await repeatable.fetch('/rounds/1/uploads', { method: 'POST', body: 'bundle' }, true)).text()).toBe('POST /rounds/1/uploads');
    expect(repeatable.repeated).toBe(1);
    const before = cutRequests;
    const once = new ReplicaRoute([cuttingUrl, liveUrl]);
    await expect(once.fetch('/api/admin/federations', { method: 'POST', body: '{}' }, false)).rejects.toThrow('fetch failed');
    expect(cutRequests).toBe(before + 1);
    expect(once.url).toBe(cuttingUrl);
  });

  it('names every replica when none answers', async () => {
    await expect(new ReplicaRoute([deadUrl]).fetch('/readyz', {}, true)).rejects.toThrow(`GET /readyz: no coordinator answered (${deadUrl}: ECONNREFUSED)`);
  });
});

describe('parseReplicaUrls', () => {
  it('keeps origins and says what is wrong with a bad list', () => {
    expect(parseReplicaUrls('http://a:8080, https://b.example/')).toEqual(['http://a:8080', 'https://b.example']);
    const bad: [string, string][] = [
      ['localhost:8080', "'localhost:8080' is not an http:// or https:// URL"],
      ['http//a', "'http//a' is not a URL (give http://host:port)"],
      ['http://a:1,', "an empty URL in 'http://a:1,' (give them as http://host:port,http://host:port)"],
      ['http://a:1,http://a:1/', "'http://a:1/' is given twice"],
      ['http://admin:pw@a:1', "'http://admin:pw@a:1' carries credentials; the admin token goes in --admin-token"],
      ['http://a:1/api', "'http://a:1/api' has a path, query or fragment; give the coordinator's origin (http://host:port)"],
    ];
    for (const [raw, message] of bad) expect(() => parseReplicaUrls(raw), raw).toThrow(message);
  });
});
