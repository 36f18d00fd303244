// Blobs in S3-compatible object storage (BLOB_STORE=s3://bucket[/prefix]), keyed by SHA-256. Checksums are
// computed only when required: non-AWS servers (and s3rver in the tests) otherwise store the aws-chunked framing
// as the object's bytes. Bodies are sent as buffers, never streams, for the same reason. Every read is re-hashed.
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { sha256Hex } from '../../common/sha256.ts';
import type { BlobStore } from './types.ts';

export interface S3Location {
  bucket: string;
  prefix: string;
}

/** `s3://bucket/optional/prefix` → bucket and prefix. */
export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) throw new Error(`BLOB_STORE=${url} is not s3://bucket[/prefix] (bucket: 3-63 lower-case letters, digits, dots or hyphens)`);
  const prefix = (m[2] ?? '').replace(/\/+$/, '');
  return { bucket: m[1] as string, prefix: prefix ? `${prefix}/` : '' };
}

export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly at: S3Location;

  constructor(at: S3Location, options: { endpoint?: string; region?: string; credentials?: { accessKeyId: string; secretAccessKey: string } } = {}) {
    this.at = at;
    this.client = new S3Client({
      region: options.region ?? 'us-east-1',
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });
  }

  private key(sha: string): string {
    return `${this.at.prefix}${sha}`;
  }

  async put(bytes: Uint8Array): Promise<string> {
    const sha = sha256Hex(bytes);
    // Same key, same bytes: an overwrite is harmless, so no conditional put is needed (s3rver ignores If-None-Match).
    await this.client.send(new PutObjectCommand({ Bucket: this.at.bucket, Key: this.key(sha), Body: bytes, ContentLength: bytes.byteLength }));
    return sha;
  }

  async get(sha: string): Promise<Uint8Array> {
    const out = await this.client.send(new GetObjectCommand({ Bucket: this.at.bucket, Key: this.key(sha) }));
    const bytes = await out.Body?.transformToByteArray();
    if (!bytes) throw new Error(`blob ${sha} is missing`);
    if (sha256Hex(bytes) !== sha) throw new Error(`blob ${sha} is corrupt (its bytes hash to something else); it was not served`);
    return bytes;
  }

  async delete(sha: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.at.bucket, Key: this.key(sha) }));
  }

  private async *objects(): AsyncGenerator<{ Key?: string; Size?: number; LastModified?: Date }> {
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.at.bucket, Prefix: this.at.prefix, ...(token ? { ContinuationToken: token } : {}) }));
      yield* page.Contents ?? [];
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async list(storedBefore?: Date): Promise<string[]> {
    const shas: string[] = [];
    for await (const o of this.objects()) {
      // A put always overwrites (see put), so LastModified is when the bytes were last stored.
      if (o.Key && (!storedBefore || (o.LastModified && o.LastModified < storedBefore))) shas.push(o.Key.slice(this.at.prefix.length));
    }
    return shas;
  }

  async usage(): Promise<number> {
    let bytes = 0;
    for await (const o of this.objects()) bytes += o.Size ?? 0;
    return bytes;
  }
}
