// Issue 11 finding 6 against the real coordinator process: 30 parallel unauthenticated 60 MB uploads are refused
// with 401 before their bodies are read, and the coordinator's resident memory stays within 100 MB of idle.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_ADMIN_TOKEN } from './testing.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'cipherpath-bodies-'));
let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

const rssBytes = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;

async function start(): Promise<{ pid: number; port: number }> {
  const proc = spawn(process.execPath, [join(import.meta.dirname, 'main.ts'), '--port', '0', '--data-dir', dataDir, '--demo', 'off', '--log-level', 'warn'], {
    env: { ...process.env, ADMIN_TOKEN: TEST_ADMIN_TOKEN, RATE_LIMIT_PER_SECOND: '10000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /open (http:\/\/\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    proc.once('exit', (code) => reject(new Error(`coordinator exited with ${code}: ${out}`)));
  });
  return { pid: proc.pid as number, port: Number(new URL(url).port) };
}

/** Streams up to `total` bytes of body; resolves with the status as soon as the server answers. */
function post(port: number, total: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const chunk = new Uint8Array(1 << 20);
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/federations/fed-abc/rounds/1/uploads', headers: { 'content-type': 'application/octet-stream', 'content-length': total } });
    let sent = 0;
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      res.resume();
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.on('error', (e) => (answered ? undefined : reject(e)));
    const pump = () => {
      while (!answered && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

describe('unauthenticated large bodies', () => {
  it('refuses 30 parallel 60 MB uploads with 401 and keeps RSS within 100 MB of idle', async () => {
    const { pid, port } = await start();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const idle = rssBytes(pid);
    let peak = idle;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssBytes(pid));
    }, 20);
    const statuses = await Promise.all(Array.from({ length: 30 }, () => post(port, 60 * 1000 * 1000)));
    clearInterval(sampler);
    peak = Math.max(peak, rssBytes(pid));
    expect(statuses).toEqual(Array.from({ length: 30 }, () => 401));
    expect((peak - idle) / 1e6).toBeLessThan(100);
  }, 60_000);
});
