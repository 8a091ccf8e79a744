// Files: streamed uploads into the storage backend, access by level (RLS does the
// filtering, this service the "may change it" rules), signed downloads gated on the
// virus scan, and deletion that never leaves an object or a row behind.
// Ordering rule: bytes go to storage first, outside any transaction; the row is
// inserted afterwards in one short transaction; every failure removes the object.
import crypto from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import {
  StorageLimitError,
  StorageUnavailableError,
  type StorageBackend,
} from '../../adapters/storage/index.ts';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import { AppError, forbidden, notFound, payloadTooLarge, upstream, validation } from '../../errors.ts';
import { decodeCursor, page, UUID_RE } from '../../http/pagination.ts';
import { publish } from '../events/events.repo.ts';
import { cleanMimeType, contentDisposition, servedContentType } from './content-disposition.ts';
import { cleanFileName } from './filename.ts';
import * as repo from './files.repo.ts';
import { SNIFF_BYTES, sniffType } from './sniff.ts';

export type UploadPart =
  | { kind: 'field'; name: string; value: string }
  | { kind: 'file'; field: string; fileName: string; mimeType: string; stream: Readable };

/** A file as the API shows it: the row without its storage location, times as ISO strings. */
export type FileView = Omit<repo.FileRow, 'storage_path' | 'storage_bucket' | 'expires_at' | 'created_at'> & {
  expires_at: string | null;
  created_at: string;
};

export const view = (r: repo.FileRow): FileView => ({
  file_id: r.file_id,
  call_id: r.call_id,
  room_name: r.room_name,
  uploader_id: r.uploader_id,
  file_name: r.file_name,
  file_type: r.file_type,
  detected_type: r.detected_type,
  file_size: r.file_size,
  sha256: r.sha256,
  access_level: r.access_level,
  scan_status: r.scan_status,
  virus_scanned: r.virus_scanned,
  expires_at: r.expires_at ? r.expires_at.toISOString() : null,
  created_at: r.created_at.toISOString(),
});

const ACCESS_LEVELS: readonly repo.AccessLevel[] = ['public', 'call_participants', 'private'];
const ROOM_NAME_RE = /^[A-Za-z0-9_-]{1,128}$/;
const MAX_EXPIRY_SECONDS = 365 * 86_400;

export interface CallRef {
  callId?: string;
  roomName?: string;
}

export function callRef(callId: string | undefined, roomName: string | undefined): CallRef {
  if ((callId === undefined) === (roomName === undefined)) throw validation('Give exactly one of call_id or room_name');
  if (callId !== undefined && !UUID_RE.test(callId)) throw validation('call_id must be a UUID');
  if (roomName !== undefined && !ROOM_NAME_RE.test(roomName)) throw validation('room_name is not valid');
  return callId !== undefined ? { callId: callId.toLowerCase() } : { roomName: roomName! };
}

interface UploadFields {
  call_id?: string;
  room_name?: string;
  access_level?: string;
  expires_in_seconds?: string;
}

function parseOptions(f: UploadFields): { access: repo.AccessLevel; expiresIn: number | null } {
  const access = (f.access_level ?? 'call_participants') as repo.AccessLevel;
  if (!ACCESS_LEVELS.includes(access)) throw validation('access_level must be public, call_participants or private');
  let expiresIn: number | null = null;
  if (f.expires_in_seconds !== undefined) {
    if (!/^\d{1,9}$/.test(f.expires_in_seconds)) throw validation('expires_in_seconds must be a positive integer');
    expiresIn = Number(f.expires_in_seconds);
    if (expiresIn < 1 || expiresIn > MAX_EXPIRY_SECONDS) {
      throw validation(`expires_in_seconds must be between 1 and ${MAX_EXPIRY_SECONDS}`);
    }
  }
  return { access, expiresIn };
}

interface Stored {
  key: string;
  size: number;
  sha256: string;
  detected: string | null;
  fileName: string;
  declared: string;
}

export class FilesService {
  constructor(
    private readonly db: Database,
    private readonly storage: StorageBackend,
    private readonly config: Pick<Config, 'storage' | 'scanner'>,
    private readonly logger: Logger,
  ) {}

  get maxBytes(): number {
    return this.config.storage.uploadMaxBytes;
  }

  async upload(userId: string, parts: AsyncIterable<UploadPart>): Promise<FileView> {
    const fields: UploadFields = {};
    let target: repo.UploadTarget | null = null;
    let stored: Stored | null = null;
    try {
      for await (const part of parts) {
        if (part.kind === 'field') {
          if (part.name in fields || !['call_id', 'room_name', 'access_level', 'expires_in_seconds'].includes(part.name)) {
            if (part.name in fields) throw validation(`Field ${part.name} given twice`);
            continue; // unknown fields are ignored, as in JSON bodies elsewhere
          }
          fields[part.name as keyof UploadFields] = part.value;
          continue;
        }
        if (part.field !== 'file' || stored) {
          part.stream.resume();
          throw validation('Send exactly one file, in the field "file"');
        }
        // Fields sent before the file (curl -F and FormData keep order) are checked
        // before a single byte is stored; fields after it, once it is.
        if (fields.call_id !== undefined || fields.room_name !== undefined) {
          try {
            parseOptions(fields);
            target = await this.uploadTarget(userId, callRef(fields.call_id, fields.room_name));
          } catch (err) {
            part.stream.resume();
            throw err;
          }
        }
        stored = await this.store(part);
      }
      if (!stored) throw validation('The multipart field "file" is required');
      const opts = parseOptions(fields);
      target ??= await this.uploadTarget(userId, callRef(fields.call_id, fields.room_name));
      const t = target;
      const s = stored;
      const row = await this.db.asUser(userId, async (sql) => {
        const r = await repo.insertFile(sql, {
          file_id: s.key.slice(s.key.lastIndexOf('/') + 1),
          call_id: t.call_id,
          room_name: t.room_name,
          uploader_id: userId,
          uploader_identity: null,
          file_name: s.fileName,
          file_type: s.declared,
          detected_type: s.detected,
          file_size: s.size,
          sha256: s.sha256,
          storage_path: s.key,
          storage_bucket: this.storage.bucket,
          access_level: opts.access,
          scan_status: this.config.scanner.enabled ? 'pending' : 'skipped',
          expires_in_seconds: opts.expiresIn,
        });
        await publish(sql, {
          callId: r.call_id,
          audienceUserId: r.access_level === 'private' ? userId : null,
          type: 'file.shared',
          payload: { file: view(r) },
        });
        return r;
      });
      return view(row);
    } catch (err) {
      if (stored) await this.discard(stored.key);
      throw err;
    }
  }

  /** The call an upload goes to; not visible is 404, visible but not a member (or sharing off) is 403. */
  private async uploadTarget(userId: string, ref: CallRef): Promise<repo.UploadTarget> {
    const t = await this.db.asUser(userId, (sql) => repo.findUploadTarget(sql, ref));
    if (!t) throw notFound('Call');
    if (!t.is_member) throw forbidden('Only participants of the call may share files');
    if (!t.file_sharing_enabled) throw forbidden('File sharing is disabled for this call');
    return t;
  }

  /** Streams one file part to storage while hashing and sniffing it; removes the object on any failure. */
  private async store(part: Extract<UploadPart, { kind: 'file' }>): Promise<Stored> {
    const fileId = crypto.randomUUID();
    const key = `files/${fileId.slice(0, 2)}/${fileId}`;
    const bucket = this.storage.bucket;
    // Recorded before the first byte, so the orphan sweep knows this object is in flight.
    await this.db.privileged((sql) => repo.recordUpload(sql, bucket, key));
    const hash = crypto.createHash('sha256');
    const head: Buffer[] = [];
    let headBytes = 0;
    const declared = cleanMimeType(part.mimeType);
    try {
      const { size } = await this.storage.put(part.stream, key, {
        contentType: 'application/octet-stream',
        maxBytes: this.maxBytes,
        observe: (chunk) => {
          hash.update(chunk);
          if (headBytes < SNIFF_BYTES) {
            head.push(chunk.subarray(0, SNIFF_BYTES - headBytes));
            headBytes += Math.min(chunk.length, SNIFF_BYTES - headBytes);
          }
        },
      });
      return {
        key,
        size,
        sha256: hash.digest('hex'),
        detected: sniffType(Buffer.concat(head)),
        fileName: cleanFileName(part.fileName),
        declared,
      };
    } catch (err) {
      part.stream.resume();
      await this.discard(key);
      throw uploadError(err, this.maxBytes);
    }
  }

  /** Removes an object that never got its row; if the store refuses, the orphan sweep finishes it. */
  private async discard(key: string): Promise<void> {
    try {
      await this.storage.delete(key);
      await this.db.privileged((sql) => repo.dropUpload(sql, this.storage.bucket, key));
    } catch (err) {
      this.logger.warn({ err, key }, 'could not remove a failed upload; the orphan sweep will');
    }
  }

  async list(userId: string, ref: CallRef, limit: number, cursor: string | undefined) {
    const after = decodeCursor(cursor, { created_at: 'timestamp', file_id: 'uuid' });
    const rows = await this.db.asUser(userId, async (sql) => {
      const callId = await repo.findCallId(sql, ref);
      if (!callId) return null;
      return repo.listFiles(sql, callId, after, limit + 1);
    });
    if (!rows) throw notFound('Call');
    const p = page(rows, limit, (r) => ({ created_at: r.created_at.toISOString(), file_id: r.file_id }));
    return { files: p.items.map(view), next_cursor: p.nextCursor };
  }

  async get(userId: string, fileId: string): Promise<FileView> {
    const row = await this.db.asUser(userId, (sql) => repo.findFile(sql, fileId));
    if (!row) throw notFound('File');
    return view(row);
  }

  async delete(userId: string, fileId: string): Promise<void> {
    const row = await this.db.asUser(userId, async (sql) => {
      const f = await repo.findFile(sql, fileId);
      if (!f) throw notFound('File');
      if (f.uploader_id !== userId && !(await repo.isCallCreator(sql, f.call_id))) {
        throw forbidden('Only the uploader or the call creator may delete a file');
      }
      // The delete trigger queues the object's removal in this same transaction.
      const gone = await repo.deleteFile(sql, fileId);
      if (!gone) throw notFound('File');
      await publish(sql, {
        callId: gone.call_id,
        audienceUserId: gone.access_level === 'private' ? gone.uploader_id : null,
        type: 'file.deleted',
        payload: { file_id: gone.file_id, call_id: gone.call_id, file_name: gone.file_name, reason: 'deleted' },
      });
      return gone;
    });
    await this.removeObject(row.storage_bucket, row.storage_path);
  }

  /** Deletes a queued object now; when the store refuses, the queued record stays for the cleanup job. */
  async removeObject(bucket: string, key: string): Promise<boolean> {
    if (bucket !== this.storage.bucket) return false;
    try {
      await this.storage.delete(key);
    } catch (err) {
      this.logger.warn({ err, key }, 'storage refused a delete; queued for retry');
      return false;
    }
    await this.db.privileged((sql) => repo.deletionDone(sql, bucket, key));
    return true;
  }

  /** Refuses files the scanner has not cleared, unless scanning is switched off. */
  assertDownloadable(f: repo.FileRow): void {
    if (f.scan_status === 'infected') throw new AppError('FILE_INFECTED', 'The file is infected and cannot be downloaded');
    if (!this.config.scanner.enabled || f.scan_status === 'clean' || f.scan_status === 'skipped') return;
    throw new AppError('FILE_NOT_READY', 'The file has not been cleared by the virus scan yet', {
      scan_status: f.scan_status,
    });
  }

  async downloadUrl(userId: string, fileId: string): Promise<{ url: string; expires_at: string }> {
    const row = await this.db.asUser(userId, (sql) => repo.findFile(sql, fileId));
    if (!row) throw notFound('File');
    this.assertDownloadable(row);
    // A URL never outlives its file: presigned S3 URLs cannot be revoked once handed out.
    const left = row.expires_at ? Math.floor((row.expires_at.getTime() - Date.now()) / 1000) : Infinity;
    const ttl = Math.max(1, Math.min(this.config.storage.downloadUrlTtlSeconds, left));
    const expiresAt = new Date(Date.now() + ttl * 1000);
    try {
      const url = await this.storage.sign(row.storage_path, {
        fileId: row.file_id,
        contentDisposition: contentDisposition(row.file_name),
        contentType: servedContentType(row.file_type, row.detected_type),
        expiresInSeconds: ttl,
      });
      return { url, expires_at: new Date(Math.floor(expiresAt.getTime() / 1000) * 1000).toISOString() };
    } catch (err) {
      if (err instanceof StorageUnavailableError) throw upstream('Storage');
      throw err;
    }
  }
}

/** Maps what ended an upload to the contract: limit 413, store down 503, client-side faults 400. */
export function uploadError(err: unknown, limit: number): unknown {
  if (err instanceof StorageLimitError) return payloadTooLarge(limit);
  if ((err as { code?: string })?.code === 'FST_REQ_FILE_TOO_LARGE') return payloadTooLarge(limit);
  if (err instanceof StorageUnavailableError) return upstream('Storage');
  if (err instanceof AppError) return err;
  // The client's stream broke (aborted, malformed multipart): there is no one to answer.
  return validation('The upload did not complete');
}

export class SignedDownloads {
  constructor(
    private readonly db: Database,
    private readonly storage: StorageBackend,
    private readonly files: FilesService,
    private readonly secret: string,
    private readonly verify: (secret: string, fileId: string, expires: unknown, sig: unknown) => 'ok' | 'invalid' | 'expired',
  ) {}

  /** The file a signed URL names, once the signature, expiry, row and scan state all allow it. */
  async resolve(fileId: string, expires: unknown, sig: unknown): Promise<repo.FileRow> {
    const verdict = UUID_RE.test(fileId) ? this.verify(this.secret, fileId, expires, sig) : 'invalid';
    if (verdict === 'expired') throw forbidden('This download link has expired');
    if (verdict !== 'ok') throw forbidden('This download link is not valid');
    const row = await this.db.privileged((sql) => repo.findLiveFilePrivileged(sql, fileId));
    if (!row) throw notFound('File');
    this.files.assertDownloadable(row);
    return row;
  }

  async open(row: repo.FileRow, range?: { start: number; end: number }) {
    try {
      return await this.storage.get(row.storage_path, range);
    } catch (err) {
      if (err instanceof StorageUnavailableError) throw upstream('Storage');
      if ((err as Error).name === 'StorageNotFoundError') throw notFound('File');
      throw err;
    }
  }
}
