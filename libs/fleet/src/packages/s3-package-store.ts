import { OnModuleDestroy } from '@nestjs/common';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { createLogger } from '@ampora/platform';
import { CONTENT_HASH, packageObjectKey, sha256Hex } from './domain/packages';
import type { PackageStore } from './package-store';
import type { S3StoreConfig } from '../fleet.config';

type S3Module = typeof import('@aws-sdk/client-s3');

/** A store error as it may be logged: the SDK's error name and status, never the request (it is signed). */
function describe(error: unknown): string {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number }; message?: string };
  return `${e.name ?? 'Error'}${e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : ''}: ${String(e.message ?? '').slice(0, 200)}`;
}

const notFound = (error: unknown): boolean => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
};

/**
 * The package store in an S3-compatible bucket (decision 0377): each file once, at
 * `<prefix>sha256/<first two hex>/<sha256>`, looked for before it is written (a second upload of the
 * same bytes writes nothing). The SDK is loaded on first use; credentials come from
 * AMPORA_PACKAGES_S3_ACCESS_KEY_ID / _SECRET_ACCESS_KEY or, when those are unset, the SDK's default
 * chain (environment, profile, instance role). Nothing here logs them.
 */
export class S3PackageStore implements PackageStore, OnModuleDestroy {
  private readonly log = createLogger('Ampora.Fleet.Packages.S3Store');
  private sdk?: Promise<{ s3: S3Module; client: S3Client }>;

  constructor(private readonly config: S3StoreConfig) {}

  private client(): Promise<{ s3: S3Module; client: S3Client }> {
    this.sdk ??= import('@aws-sdk/client-s3').then((s3) => {
      const c = this.config;
      const client = new s3.S3Client({
        region: c.region,
        endpoint: c.endpoint,
        forcePathStyle: c.forcePathStyle,
        credentials: c.accessKeyId && c.secretAccessKey ? { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken } : undefined,
      });
      return { s3, client };
    });
    return this.sdk;
  }

  private key(hash: string): string {
    return packageObjectKey(this.config.prefix, hash);
  }

  async put(content: Buffer): Promise<string> {
    const hash = sha256Hex(content);
    if (await this.has(hash)) return hash;
    const { s3, client } = await this.client();
    try {
      await client.send(new s3.PutObjectCommand({ Bucket: this.config.bucket, Key: this.key(hash), Body: content, ContentLength: content.length, ContentType: 'application/octet-stream', Metadata: { sha256: hash } }));
    } catch (error) {
      this.log.error('Storing package {ContentHash} in bucket {Bucket} failed: {Error}', { ContentHash: hash, Bucket: this.config.bucket, Error: describe(error) });
      throw new Error(`the package store (bucket ${this.config.bucket}) refused the file`);
    }
    return hash;
  }

  async has(hash: string): Promise<boolean> {
    if (!CONTENT_HASH.test(hash)) return false;
    const { s3, client } = await this.client();
    try {
      await client.send(new s3.HeadObjectCommand({ Bucket: this.config.bucket, Key: this.key(hash) }));
      return true;
    } catch (error) {
      // S3 answers 403, not 404, for a missing object to a caller without s3:ListBucket: absent (a put then says more)
      if (notFound(error) || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 403) return false;
      this.log.error('Looking for package {ContentHash} in bucket {Bucket} failed: {Error}', { ContentHash: hash, Bucket: this.config.bucket, Error: describe(error) });
      throw new Error(`the package store (bucket ${this.config.bucket}) could not be read`);
    }
  }

  async open(hash: string): Promise<{ size: number; stream: Readable } | undefined> {
    if (!CONTENT_HASH.test(hash)) return undefined;
    const { s3, client } = await this.client();
    try {
      const out = await client.send(new s3.GetObjectCommand({ Bucket: this.config.bucket, Key: this.key(hash) }));
      if (!out.Body) return undefined;
      return { size: Number(out.ContentLength ?? 0), stream: out.Body as Readable };
    } catch (error) {
      if (notFound(error)) return undefined;
      this.log.error('Reading package {ContentHash} from bucket {Bucket} failed: {Error}', { ContentHash: hash, Bucket: this.config.bucket, Error: describe(error) });
      throw new Error(`the package store (bucket ${this.config.bucket}) could not be read`);
    }
  }

  async onModuleDestroy(): Promise<void> {
    const sdk = await this.sdk?.catch(() => undefined);
    sdk?.client.destroy();
  }
}
