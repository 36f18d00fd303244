// Content-addressed blob files (name = SHA-256 of the bytes), written honestly: every byte count checked, fsynced,
// renamed into place, the folder fsynced; a full disk (or the configured quota) is StorageFull and leaves nothing
// behind; a missing or short copy is rewritten by the next put of the same bytes; every read is re-hashed.
// Files are 0600 in a 0700 folder; `.tmp` files a SIGKILL left behind are removed at start.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../../common/sha256.ts';
import { StorageFault, StorageFull } from '../errors.ts';
import type { BlobStore } from './types.ts';

const SHA = /^[0-9a-f]{64}$/;

/** The write system call, replaceable by tests that inject a full disk; returns the bytes written. */
export type WriteChunk = (fd: number, bytes: Uint8Array, offset: number, length: number) => number;

export interface FsBlobStoreOptions {
  /** Refuse writes that would take the folder past this many bytes (0: no quota). */
  quotaBytes?: number;
  write?: WriteChunk;
}

const defaultWrite: WriteChunk = (fd, bytes, offset, length) => writeSync(fd, bytes, offset, length);

function isNoSpace(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG';
}

export class FsBlobStore implements BlobStore {
  private readonly dir: string;
  private readonly options: FsBlobStoreOptions;
  private used = 0;

  constructor(dir: string, options: FsBlobStoreOptions = {}) {
    this.dir = dir;
    this.options = options;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (name.endsWith('.tmp')) unlinkSync(path);
      else this.used += statSync(path).size;
    }
  }

  private pathOf(sha: string): string {
    if (!SHA.test(sha)) throw new Error(`invalid blob id ${sha}`);
    return join(this.dir, sha);
  }

  private intact(path: string, sha: string, size: number): boolean {
    if (!existsSync(path) || statSync(path).size !== size) return false;
    return sha256Hex(readFileSync(path)) === sha;
  }

  async put(bytes: Uint8Array): Promise<string> {
    const sha = sha256Hex(bytes);
    const path = this.pathOf(sha);
    if (this.intact(path, sha, bytes.byteLength)) {
      const now = new Date();
      utimesSync(path, now, now); // stored again: orphan collection's grace starts over
      return sha;
    }
    const quota = this.options.quotaBytes ?? 0;
    if (quota > 0 && this.used + bytes.byteLength > quota) {
      throw new StorageFull(`blob storage is full (${this.used} of ${quota} bytes used; this needs ${bytes.byteLength} more); nothing was stored`);
    }
    const tmp = `${path}.${process.pid}.tmp`;
    const write = this.options.write ?? defaultWrite;
    try {
      const fd = openSync(tmp, 'w', 0o600);
      try {
        let done = 0;
        while (done < bytes.byteLength) {
          const n = write(fd, bytes, done, bytes.byteLength - done);
          if (n <= 0) throw Object.assign(new Error(`short write: ${done} of ${bytes.byteLength} bytes`), { code: 'ENOSPC' });
          done += n;
        }
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
      const dirFd = openSync(this.dir, 'r');
      try {
        fsyncSync(dirFd);
      } finally {
        closeSync(dirFd);
      }
    } catch (e) {
      if (existsSync(tmp)) unlinkSync(tmp);
      if (isNoSpace(e)) throw new StorageFull(`the coordinator's disk is full (${(e as Error).message}); nothing was stored, retry later`);
      throw e;
    }
    this.used += bytes.byteLength;
    return sha;
  }

  async get(sha: string): Promise<Uint8Array> {
    const path = this.pathOf(sha);
    if (!existsSync(path)) throw new StorageFault(`blob ${sha} is missing from the coordinator's storage`);
    const bytes = readFileSync(path);
    if (sha256Hex(bytes) !== sha) throw new StorageFault(`blob ${sha} is corrupt on disk (its bytes no longer hash to its name)`);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  async delete(sha: string): Promise<void> {
    const path = this.pathOf(sha);
    if (!existsSync(path)) return;
    const size = statSync(path).size;
    unlinkSync(path);
    this.used -= size;
  }

  async list(storedBefore?: Date): Promise<string[]> {
    const names = readdirSync(this.dir).filter((name) => SHA.test(name));
    return storedBefore ? names.filter((name) => statSync(join(this.dir, name)).mtimeMs < storedBefore.getTime()) : names;
  }

  async usage(): Promise<number> {
    return this.used;
  }
}
