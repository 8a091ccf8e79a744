// Streams a body into one S3 object: one PutObject when it fits in a part, otherwise a
// multipart upload of fixed-size parts, at most `queueSize` of them in flight.
//
// Written here instead of lib-storage's Upload for the memory it allocates: Upload
// concatenates every part into a freshly allocated buffer (100 MB of new ArrayBuffers
// for a 100 MB file, each page faulted in), and every such byte counts toward V8's
// external-memory limit, whose crossing starts a full mark-compact of the whole heap.
// Those collections were the largest share of the service's CPU during an upload
// (docs/profiles.md, "Upload"). Here an upload copies its bytes into at most
// `queueSize` part buffers and reuses them for all its parts; the bytes of a part are
// held by reference (the socket's own chunks) until the part is full.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { StorageLimitError } from './index.ts';

export interface ObjectTarget {
  Bucket: string;
  Key: string;
  ContentType: string;
}

export interface StreamLimits {
  /** Bytes per part (S3: at least 5 MiB for every part but the last). */
  partSize: number;
  /** Parts uploading at once; also the number of part buffers an upload may hold. */
  queueSize: number;
  maxBytes: number;
  observe?: (chunk: Buffer) => void;
}

/** An error the store answered (or a failure to reach it), as opposed to one of the source. */
export class StoreError extends Error {
  constructor(readonly original: unknown) {
    super('s3 request failed', { cause: original });
    this.name = 'StoreError';
  }
}

const store = async <T>(p: Promise<T>): Promise<T> => {
  try {
    return await p;
  } catch (err) {
    throw new StoreError(err);
  }
};

/**
 * Streams `body` to the object and returns its size. Throws StorageLimitError past
 * maxBytes, the source's own error when the body fails, StoreError when S3 does; on
 * any failure the multipart upload is aborted (a process killed meanwhile leaves its
 * parts to the orphan sweep's abortIncomplete).
 */
export async function streamToS3(client: S3Client, target: ObjectTarget, body: AsyncIterable<Buffer>, limits: StreamLimits): Promise<number> {
  const { partSize, queueSize, maxBytes, observe } = limits;
  const { Bucket, Key } = target;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let total = 0;
  let uploadId: string | undefined;
  let partNumber = 0;
  let failure: StoreError | null = null;
  const done: CompletedPart[] = [];
  const free: Buffer[] = [];
  let allocated = 0;
  const inFlight = new Set<Promise<void>>();

  /** A part buffer: a free one, a new one while fewer than queueSize exist, else the next to come back. */
  const takeBuffer = async (): Promise<Buffer> => {
    while (free.length === 0 && allocated >= queueSize && !failure) await Promise.race(inFlight);
    if (failure) throw failure;
    if (free.length > 0) return free.pop()!;
    allocated++;
    return Buffer.allocUnsafeSlow(partSize);
  };

  /** Copies the first `n` pending bytes into buf; what is left of the last chunk stays pending. */
  const drain = (buf: Buffer, n: number) => {
    let at = 0;
    let i = 0;
    while (at < n) {
      const c = pending[i]!;
      const take = Math.min(c.length, n - at);
      c.copy(buf, at, 0, take);
      at += take;
      if (take < c.length) pending[i] = c.subarray(take);
      else i++;
    }
    pending = pending.slice(i);
    pendingBytes -= n;
  };

  const sendPart = async (n: number) => {
    uploadId ??= (await store(client.send(new CreateMultipartUploadCommand(target)))).UploadId;
    const buf = await takeBuffer();
    drain(buf, n);
    const PartNumber = ++partNumber;
    const sent: Promise<void> = client
      .send(new UploadPartCommand({ Bucket, Key, UploadId: uploadId, PartNumber, Body: buf.subarray(0, n), ContentLength: n }))
      .then(
        (out) => void done.push({ PartNumber, ETag: out.ETag }),
        (err) => void (failure ??= new StoreError(err)),
      )
      .finally(() => {
        free.push(buf);
        inFlight.delete(sent);
      });
    inFlight.add(sent);
  };

  try {
    for await (const chunk of body) {
      total += chunk.length;
      if (total > maxBytes) throw new StorageLimitError(maxBytes);
      observe?.(chunk);
      pending.push(chunk);
      pendingBytes += chunk.length;
      // Strictly more than a part: the last part is never empty, and a body of exactly
      // one part goes up as one PutObject.
      while (pendingBytes > partSize) await sendPart(partSize);
      if (failure) throw failure;
    }
    if (uploadId === undefined) {
      const data = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      await store(client.send(new PutObjectCommand({ ...target, Body: data, ContentLength: data.length })));
      return total;
    }
    await sendPart(pendingBytes);
    while (inFlight.size > 0) await Promise.race(inFlight);
    if (failure) throw failure;
    done.sort((a, b) => a.PartNumber! - b.PartNumber!);
    await store(client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId: uploadId, MultipartUpload: { Parts: done } })));
    return total;
  } catch (err) {
    pending = [];
    await Promise.allSettled(inFlight);
    if (uploadId !== undefined) {
      await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: uploadId })).catch(() => undefined);
    }
    throw err;
  }
}
