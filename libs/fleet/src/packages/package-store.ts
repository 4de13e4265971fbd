import { Inject, Injectable, Provider } from '@nestjs/common';
import { createReadStream } from 'node:fs';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { AMPORA_CONFIG, AmporaConfig } from '@ampora/platform';
import { CONTENT_HASH, sha256Hex } from './domain/packages';
import { S3PackageStore } from './s3-package-store';

/**
 * The content-addressed package store (decisions 0331 and 0377): each file once, under its sha256.
 * `put` answers the hash; `open` streams a stored file. The data directory by default
 * (`FilePackageStore`), an S3-compatible bucket with AMPORA_PACKAGES_STORE=s3 (`S3PackageStore`).
 */
export abstract class PackageStore {
  /** Stores the bytes (once per content) and answers their sha256 (hex). */
  abstract put(content: Buffer): Promise<string>;
  abstract has(hash: string): Promise<boolean>;
  /** The stored file's size and a stream of it; undefined when the store has no such content. */
  abstract open(hash: string): Promise<{ size: number; stream: Readable } | undefined>;
}

/**
 * The store in the data directory: `<AMPORA_DATA_DIR>/packages/sha256/<first two hex>/<sha256>`,
 * written to a temporary name and renamed into place, so a reader never sees half a file and the same
 * bytes uploaded twice are stored once.
 */
@Injectable()
export class FilePackageStore extends PackageStore {
  private readonly root: string;

  constructor(@Inject(AMPORA_CONFIG) config: AmporaConfig) {
    super();
    this.root = resolve(config.storage.dataDir, 'packages', 'sha256');
  }

  private pathOf(hash: string): string {
    return join(this.root, hash.slice(0, 2), hash);
  }

  async put(content: Buffer): Promise<string> {
    const hash = sha256Hex(content);
    if (await this.has(hash)) return hash;
    const dir = join(this.root, hash.slice(0, 2));
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.${hash}.${process.pid}.${Date.now()}.tmp`);
    await writeFile(tmp, content, { mode: 0o640 });
    await rename(tmp, this.pathOf(hash));
    return hash;
  }

  async has(hash: string): Promise<boolean> {
    if (!CONTENT_HASH.test(hash)) return false;
    return stat(this.pathOf(hash)).then((s) => s.isFile(), () => false);
  }

  async open(hash: string): Promise<{ size: number; stream: Readable } | undefined> {
    if (!CONTENT_HASH.test(hash)) return undefined;
    const s = await stat(this.pathOf(hash)).catch(() => undefined);
    if (!s?.isFile()) return undefined;
    return { size: s.size, stream: createReadStream(this.pathOf(hash)) };
  }
}

/** The store AMPORA_PACKAGES_STORE names. */
export const PACKAGE_STORE_PROVIDER: Provider = {
  provide: PackageStore,
  inject: [AMPORA_CONFIG],
  useFactory: (config: AmporaConfig): PackageStore => (config.fleet.packages.store.kind === 's3' ? new S3PackageStore(config.fleet.packages.store) : new FilePackageStore(config)),
};
