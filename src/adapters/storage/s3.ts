// S3-compatible backend (MinIO, AWS S3, Supabase Storage's S3 endpoint). Uploads go
// through lib-storage's multipart Upload, which buffers at most queueSize x partSize
// bytes, so a 100 MB upload never sits in memory whole.
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../../config.ts';
import {
  assertKey,
  ByteMeter,
  StorageNotFoundError,
  StorageUnavailableError,
  type ByteRange,
  type ListedObject,
  type PutOptions,
  type SignOptions,
  type StorageBackend,
  type StoredObject,
} from './index.ts';

// lib-storage sends a body of one part or less as a single PutObject, otherwise parts of
// PART_SIZE with QUEUE_SIZE in flight (docs/profiles.md, "Upload", for the measurements).
export const PART_SIZE = 8 * 1024 * 1024;
export const QUEUE_SIZE = 3;

type S3Settings = Pick<
  Config['storage'],
  'bucket' | 'endpoint' | 'region' | 'accessKeyId' | 'secretAccessKey' | 'forcePathStyle'
>;

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.name === 'NoSuchBucket' || e?.$metadata?.httpStatusCode === 404;
}

/** Anything but "not found" from S3 means the store cannot serve us right now. */
function unavailable(err: unknown): StorageUnavailableError {
  const e = err as { name?: string; code?: string; message?: string };
  return new StorageUnavailableError(`s3 storage: ${e?.code ?? e?.name ?? 'error'}`, { cause: err });
}

export class S3Storage implements StorageBackend {
  readonly kind = 's3' as const;
  readonly bucket: string;
  readonly client: S3Client;
  private bucketReady: Promise<void> | null = null;

  /** partSize is for tests (S3's least, 5 MiB, makes small multipart objects). */
  constructor(
    settings: S3Settings,
    private readonly partSize = PART_SIZE,
  ) {
    this.bucket = settings.bucket;
    this.client = new S3Client({
      region: settings.region,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      forcePathStyle: settings.forcePathStyle,
      ...(settings.accessKeyId && settings.secretAccessKey
        ? { credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey } }
        : {}),
      // Newer SDKs add CRC checksums to every upload by default; several S3-compatible
      // servers (Supabase Storage among them) reject or mishandle those.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      // A dead endpoint must turn into a 503 quickly, not hang the upload.
      requestHandler: { connectionTimeout: 3000, socketTimeout: 30_000 },
    });
  }

  /** Creates the bucket when it does not exist (MinIO, tests); memoized until it fails. */
  ensureBucket(): Promise<void> {
    this.bucketReady ??= (async () => {
      try {
        await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      } catch (err) {
        if (!isNotFound(err)) throw unavailable(err);
        try {
          await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
        } catch (createErr) {
          const name = (createErr as { name?: string }).name;
          if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw unavailable(createErr);
        }
      }
    })().catch((err) => {
      this.bucketReady = null;
      throw err;
    });
    return this.bucketReady;
  }

  async put(body: Readable, key: string, opts: PutOptions): Promise<{ size: number }> {
    assertKey(key);
    const meter = new ByteMeter(opts.maxBytes, opts.observe);
    // The first error from the client side (limit, abort, bad multipart) wins over
    // whatever the SDK reports after its input stream died.
    let sourceError: unknown = null;
    meter.on('error', (err) => (sourceError ??= err));
    const onAbort = () => body.destroy(new Error('upload aborted'));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const feeding = pipeline(body, meter).catch(() => undefined);
    try {
      await this.ensureBucket();
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: key, Body: meter, ContentType: opts.contentType },
        partSize: this.partSize,
        queueSize: QUEUE_SIZE,
        // On any failure Upload aborts the multipart upload: no parts left behind.
        leavePartsOnError: false,
      });
      await upload.done();
      await feeding;
      if (sourceError) throw sourceError;
      return { size: meter.bytes };
    } catch (err) {
      const fromSource = sourceError;
      body.destroy();
      meter.destroy();
      await feeding;
      if (fromSource) throw fromSource;
      if (err instanceof StorageUnavailableError) throw err;
      throw unavailable(err);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  async get(key: string, range?: ByteRange): Promise<StoredObject> {
    assertKey(key);
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      return { body: out.Body as Readable, size: out.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) throw new StorageNotFoundError(key);
      throw unavailable(err);
    }
  }

  async stat(key: string): Promise<{ size: number } | null> {
    assertKey(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: out.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw unavailable(err);
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== null;
  }

  async delete(key: string): Promise<void> {
    assertKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (isNotFound(err)) return;
      throw unavailable(err);
    }
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    let token: string | undefined;
    do {
      let out;
      try {
        out = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
        );
      } catch (err) {
        if (isNotFound(err)) return;
        throw unavailable(err);
      }
      for (const o of out.Contents ?? []) {
        if (o.Key) yield { key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) };
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  async abortIncomplete(key: string): Promise<number> {
    assertKey(key);
    // Listed by the exact key: MinIO lists multipart uploads of one object name only.
    let out;
    try {
      out = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: key }));
    } catch (err) {
      if (isNotFound(err)) return 0;
      throw unavailable(err);
    }
    let aborted = 0;
    for (const u of out.Uploads ?? []) {
      if (u.Key !== key || !u.UploadId) continue;
      try {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: u.UploadId }));
        aborted++;
      } catch (err) {
        if (!isNotFound(err)) throw unavailable(err);
      }
    }
    return aborted;
  }

  async sign(key: string, opts: SignOptions): Promise<string> {
    assertKey(key);
    // The response overrides make the store itself answer with attachment + a safe type.
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ResponseContentDisposition: opts.contentDisposition,
      ResponseContentType: opts.contentType,
    });
    return getSignedUrl(this.client, command, { expiresIn: opts.expiresInSeconds });
  }

  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      throw unavailable(err);
    }
  }
}
