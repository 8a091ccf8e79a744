// The storage backend interface shared by the local-disk and S3 implementations,
// plus the byte meter both put() paths run their input through. An adapter knows
// keys and bytes only: no users, no files rows.
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { Config } from '../../config.ts';

export interface PutOptions {
  contentType: string;
  /** Hard limit; the stream is cut (StorageLimitError) at maxBytes + 1 whatever the client claimed. */
  maxBytes: number;
  /** Sees every chunk as it passes (hashing, sniffing) without buffering the whole body. */
  observe?: (chunk: Buffer) => void;
  signal?: AbortSignal;
}

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

export interface StoredObject {
  body: Readable;
  size: number;
}

export interface ListedObject {
  key: string;
  size: number;
  lastModified: Date;
}

export interface SignOptions {
  fileId: string;
  /** Full Content-Disposition value the download must carry (always an attachment). */
  contentDisposition: string;
  /** The type to serve, already made safe by the caller. */
  contentType: string;
  expiresInSeconds: number;
}

export interface StorageBackend {
  readonly kind: 'disk' | 's3';
  readonly bucket: string;
  /** Streams body to key; the object appears only when complete. Partial writes are removed on failure. */
  put(body: Readable, key: string, opts: PutOptions): Promise<{ size: number }>;
  get(key: string, range?: ByteRange): Promise<StoredObject>;
  /** Size of the object, or null when it does not exist. */
  stat(key: string): Promise<{ size: number } | null>;
  exists(key: string): Promise<boolean>;
  /** Idempotent: deleting a missing object succeeds. */
  delete(key: string): Promise<void>;
  list(prefix: string): AsyncIterable<ListedObject>;
  /**
   * Discards unfinished writes of `key` left by a process that died mid-upload
   * (S3 multipart parts, invisible to list()); returns how many were discarded.
   */
  abortIncomplete(key: string): Promise<number>;
  /** A short-lived URL that downloads the object as an attachment. */
  sign(key: string, opts: SignOptions): Promise<string>;
  /** Readiness probe. */
  check(): Promise<void>;
}

export class StorageLimitError extends Error {
  constructor(readonly limit: number) {
    super(`object exceeds ${limit} bytes`);
    this.name = 'StorageLimitError';
  }
}

export class StorageNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`object ${key} not found`);
    this.name = 'StorageNotFoundError';
  }
}

/** The backend could not be reached or refused the operation (503 upstream). */
export class StorageUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageUnavailableError';
  }
}

/**
 * Counts bytes and fails the pipeline as soon as one byte more than the limit has
 * passed. Content-Length is never trusted: a chunked or lying client is cut here.
 */
export class ByteMeter extends Transform {
  bytes = 0;
  constructor(
    private readonly limit: number,
    private readonly observe?: (chunk: Buffer) => void,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) return cb(new StorageLimitError(this.limit));
    this.observe?.(chunk);
    cb(null, chunk);
  }
}

/** Keys are produced by the service, but every backend still refuses anything odd. */
export const KEY_RE = /^(?!\/)(?!.*\/\/)[A-Za-z0-9._\/-]{1,512}$/;
export function assertKey(key: string): void {
  if (!KEY_RE.test(key) || key.split('/').some((seg) => seg === '.' || seg === '..' || seg === '')) {
    throw new Error(`invalid storage key: ${JSON.stringify(key).slice(0, 80)}`);
  }
}

export async function createStorage(config: Config): Promise<StorageBackend> {
  if (config.storage.backend === 's3') {
    const { S3Storage } = await import('./s3.ts');
    return new S3Storage(config.storage);
  }
  const { DiskStorage } = await import('./disk.ts');
  const path = await import('node:path');
  return new DiskStorage({
    root: path.join(config.dataDir, 'files'),
    publicBaseUrl: config.publicBaseUrl,
    signingSecret: config.storage.urlSigningSecret,
  });
}
