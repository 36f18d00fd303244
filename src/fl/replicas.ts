// Several coordinator replicas behind no load balancer: the simulator spreads its clinics over the replicas' URLs
// (clinic i starts at URL i mod n) and moves a clinic's call to the next URL when its replica is gone, as a load
// balancer would. A refused connection never reached the replica, so any call moves; a connection cut mid-request
// may have been served, so only calls that are safe to repeat move (reads, and uploads: the same bytes again are a
// duplicate, never a second upload). A clinic stays on the URL that last answered.

/** Node's fetch reports a dead peer as `TypeError: fetch failed` with the socket error as its cause. */
function causeCode(e: unknown): string | undefined {
  const cause = (e as { cause?: { code?: unknown } } | null)?.cause;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

/** True when the request never reached a server (nothing listens at the URL). */
export function connectionRefused(e: unknown): boolean {
  return e instanceof TypeError && causeCode(e) === 'ECONNREFUSED';
}

/** True when the connection broke after the request may have reached the server (a replica killed mid-call). */
export function connectionLost(e: unknown): boolean {
  const code = causeCode(e);
  return e instanceof TypeError && (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE');
}

/** An error of a coordinator call in words: fetch's own 'fetch failed' says nothing without its cause. */
export function describeFetchError(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const code = causeCode(e);
  return code ? `${message} (${code})` : message;
}

/** The URLs of a `--coordinator a,b` list, checked: absolute http(s) URLs without credentials, each named once. */
export function parseReplicaUrls(raw: string): string[] {
  const urls = raw.split(',').map((s) => s.trim());
  const seen = new Set<string>();
  for (const text of urls) {
    if (text === '') throw new Error(`an empty URL in '${raw}' (give them as http://host:port,http://host:port)`);
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new Error(`'${text}' is not a URL (give http://host:port)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`'${text}' is not an http:// or https:// URL`);
    if (url.username || url.password) throw new Error(`'${text}' carries credentials; the admin token goes in --admin-token`);
    if (url.pathname !== '/' || url.search || url.hash) throw new Error(`'${text}' has a path, query or fragment; give the coordinator's origin (http://host:port)`);
    if (seen.has(url.origin)) throw new Error(`'${text}' is given twice`);
    seen.add(url.origin);
  }
  return [...seen];
}

/** One clinic's way to the replicas: the URL it is on, and the failover to the next one. */
export class ReplicaRoute {
  readonly #urls: readonly string[];
  #current: number;
  /** Calls that moved to another replica. */
  failovers = 0;
  /** Calls repeated after their connection was cut (the replica may have served the first attempt). */
  repeated = 0;

  constructor(urls: readonly string[], first = 0) {
    if (urls.length === 0) throw new Error('no coordinator URL');
    this.#urls = urls;
    this.#current = first % urls.length;
  }

  get url(): string {
    return this.#urls[this.#current] as string;
  }

  /** fetch(path) on the current replica, then on each other one in turn while they refuse (or cut a `repeatable` call). */
  async fetch(path: string, init: RequestInit, repeatable: boolean): Promise<Response> {
    const failures: string[] = [];
    for (let tried = 0; tried < this.#urls.length; tried++) {
      const url = this.url;
      try {
        return await fetch(new URL(path, url), init);
      } catch (e) {
        const lost = connectionLost(e);
        if (!connectionRefused(e) && !(lost && repeatable)) throw e;
        failures.push(`${url}: ${causeCode(e)}`);
        if (this.#urls.length === 1) break;
        if (lost) this.repeated++;
        this.failovers++;
        this.#current = (this.#current + 1) % this.#urls.length;
      }
    }
    throw new Error(`${init.method ?? 'GET'} ${path}: no coordinator answered (${failures.join('; ')})`);
  }
}
