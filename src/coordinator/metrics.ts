// Prometheus text exposition of a few counters and gauges; no client library needed for this handful.
type Labels = Record<string, string>;

function key(name: string, labels: Labels): string {
  const parts = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`);
  return parts.length ? `${name}{${parts.join(',')}}` : name;
}

export class Metrics {
  private readonly counters = new Map<string, number>();
  private readonly help = new Map<string, string>();
  private readonly gauges = new Map<string, { help: string; value: number }>();

  constructor() {
    this.describe('cipherpath_http_requests_total', 'HTTP requests by route and status class');
    this.describe('cipherpath_uploads_accepted_total', 'ciphertext bundles accepted');
    this.describe('cipherpath_rounds_closed_total', 'rounds aggregated and closed');
    this.describe('cipherpath_aggregation_seconds_sum', 'time spent in homomorphic aggregation');
    this.describe('cipherpath_rate_limited_total', 'requests refused by the rate limiter');
    this.describe('cipherpath_inference_groups_total', 'encrypted logit ciphertexts returned by inference');
  }

  describe(name: string, help: string): void {
    this.help.set(name, help);
  }

  inc(name: string, labels: Labels = {}, by = 1): void {
    const k = key(name, labels);
    this.counters.set(k, (this.counters.get(k) ?? 0) + by);
  }

  gauge(name: string, help: string, value: number): void {
    this.gauges.set(name, { help, value });
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, g] of this.gauges) lines.push(`# HELP ${name} ${g.help}`, `# TYPE ${name} gauge`, `${name} ${g.value}`);
    for (const [name, help] of this.help) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [k, v] of this.counters) if (k === name || k.startsWith(`${name}{`)) lines.push(`${k} ${v}`);
    }
    const mem = process.memoryUsage();
    lines.push('# HELP cipherpath_process_resident_bytes resident set size', '# TYPE cipherpath_process_resident_bytes gauge');
    lines.push(`cipherpath_process_resident_bytes ${mem.rss}`);
    lines.push('# HELP cipherpath_process_heap_bytes V8 heap used', '# TYPE cipherpath_process_heap_bytes gauge');
    lines.push(`cipherpath_process_heap_bytes ${mem.heapUsed}`);
    return `${lines.join('\n')}\n`;
  }
}
