// Finds whether any 64-byte window of any secret buffer (tile files, decoded pixels) occurs inside a request body.
// Rabin–Karp: index every window of the secrets by a rolling hash, roll over each body, confirm candidates bytewise.
const WINDOW = 64;
const BASE = 257;
const MOD = 1_000_000_007;

// Every product below stays under 2^53 (bytes ≤ 255, BASE 257, values < MOD ≈ 2^30), so plain numbers are exact.
let TOP = 1;
for (let i = 0; i < WINDOW - 1; i++) TOP = (TOP * BASE) % MOD;

function rollingHashes(bytes: Uint8Array, visit: (hash: number, start: number) => void): void {
  if (bytes.length < WINDOW) return;
  let h = 0;
  for (let i = 0; i < WINDOW; i++) h = (h * BASE + (bytes[i] ?? 0)) % MOD;
  visit(h, 0);
  for (let i = WINDOW; i < bytes.length; i++) {
    h = (h - (((bytes[i - WINDOW] ?? 0) * TOP) % MOD) + MOD) % MOD;
    h = (h * BASE + (bytes[i] ?? 0)) % MOD;
    visit(h, i - WINDOW + 1);
  }
}

export interface Secret {
  name: string;
  bytes: Uint8Array;
}

export class LeakScanner {
  private readonly index = new Map<number, { secret: Secret; start: number }[]>();

  constructor(secrets: readonly Secret[]) {
    for (const secret of secrets) {
      rollingHashes(secret.bytes, (hash, start) => {
        const list = this.index.get(hash);
        if (list) list.push({ secret, start });
        else this.index.set(hash, [{ secret, start }]);
      });
    }
  }

  /** Returns a description of the first secret window found in the body, or null. */
  find(body: Uint8Array): string | null {
    let found: string | null = null;
    rollingHashes(body, (hash, start) => {
      if (found) return;
      for (const candidate of this.index.get(hash) ?? []) {
        let same = true;
        for (let k = 0; k < WINDOW && same; k++) same = body[start + k] === candidate.secret.bytes[candidate.start + k];
        if (same) {
          found = `${candidate.secret.name} bytes ${candidate.start}..${candidate.start + WINDOW} at body offset ${start}`;
          return;
        }
      }
    });
    return found;
  }
}
