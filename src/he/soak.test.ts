// 10,000-operation memory soak in a child process (see soak.ts for why a separate process with a fixed young
// generation). HE_SOAK_OPS overrides the operation count (default 10,000; ~10 s on an idle 2-core box).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { SoakResult } from './soak.ts';

const OPS = Number(process.env.HE_SOAK_OPS ?? 10_000);

describe('memory soak', () => {
  it(`${OPS} mixed operations keep RSS within 10% after warm-up and the wasm heap constant`, async () => {
    const script = fileURLToPath(new URL('./soak.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--expose-gc', '--max-semi-space-size=1', script, String(OPS)],
      { timeout: 110_000 },
    );
    const r = JSON.parse(stdout) as SoakResult;
    const growth = r.rssEnd / r.rssAfterWarmup - 1;
    console.log(`soak: ${r.ops} ops in ${(r.ms / 1000).toFixed(1)} s, RSS +${(growth * 100).toFixed(1)}% after warm-up, wasm heap ${r.heapEnd} B`);
    expect(r.ops).toBe(OPS);
    expect(growth).toBeLessThanOrEqual(0.1);
    expect(r.heapEnd).toBe(r.heapAfterWarmup);
  });
});
