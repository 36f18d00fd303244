// Per-caller token buckets: a clinic (by token hash) or an anonymous caller (by address) gets a steady rate with a
// burst. Buckets idle for a while are dropped so the map stays bounded under a flood of distinct callers.
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perSecond: number;
  private readonly burst: number;
  private readonly maxKeys: number;

  constructor(perSecond: number, burst: number, maxKeys = 10_000) {
    this.perSecond = perSecond;
    this.burst = burst;
    this.maxKeys = maxKeys;
  }

  /** Returns 0 when allowed, else the seconds to wait. */
  take(caller: string, now = Date.now()): number {
    let bucket = this.buckets.get(caller);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.evictIdle(now);
      bucket = { tokens: this.burst, at: now };
      this.buckets.set(caller, bucket);
    }
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.perSecond);
  }

  private evictIdle(now: number): void {
    for (const [k, b] of this.buckets) if (now - b.at > 60_000) this.buckets.delete(k);
    if (this.buckets.size >= this.maxKeys) this.buckets.clear();
  }
}
