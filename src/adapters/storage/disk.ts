// Local-disk backend under DATA_DIR/files (the embedded default). Keys map to paths
// that are resolved and checked against the root, so no key can escape it. Objects
// are written to a temporary sibling and renamed into place once complete, so a
// reader never sees half a file and a crash leaves only a *.part-* file that the
// orphan sweep removes (it has no files row).
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
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
import { downloadUrl } from './url-signing.ts';

export interface DiskOptions {
  root: string;
  publicBaseUrl: string;
  signingSecret: string;
}

// Disk errors that mean "the volume is not usable right now", not bad input.
const UNAVAILABLE = new Set(['ENOSPC', 'EROFS', 'EACCES', 'EPERM', 'EIO', 'EDQUOT', 'EMFILE', 'ENFILE', 'ENOTDIR']);

function mapError(err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code && UNAVAILABLE.has(code)) return new StorageUnavailableError(`disk storage: ${code}`, { cause: err });
  return err;
}

export class DiskStorage implements StorageBackend {
  readonly kind = 'disk' as const;
  readonly bucket = 'local';
  private readonly root: string;

  constructor(private readonly opts: DiskOptions) {
    this.root = path.resolve(opts.root);
  }

  /** The absolute path of key; throws when the key is malformed or would leave the root. */
  resolve(key: string): string {
    assertKey(key);
    const full = path.resolve(this.root, key);
    if (!full.startsWith(this.root + path.sep)) throw new Error('storage key escapes the root');
    return full;
  }

  async put(body: Readable, key: string, opts: PutOptions): Promise<{ size: number }> {
    const full = this.resolve(key);
    const tmp = `${full}.part-${crypto.randomBytes(6).toString('hex')}`;
    const meter = new ByteMeter(opts.maxBytes, opts.observe);
    try {
      await fsp.mkdir(path.dirname(full), { recursive: true });
      const out = fs.createWriteStream(tmp, { flags: 'wx', mode: 0o600 });
      await pipeline(body, meter, out, opts.signal ? { signal: opts.signal } : {});
      await fsp.rename(tmp, full);
      return { size: meter.bytes };
    } catch (err) {
      body.destroy();
      await fsp.rm(tmp, { force: true }).catch(() => undefined);
      throw mapError(err);
    }
  }

  async get(key: string, range?: ByteRange): Promise<StoredObject> {
    const full = this.resolve(key);
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(full, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new StorageNotFoundError(key);
      throw mapError(err);
    }
    const { size } = await handle.stat();
    const body = handle.createReadStream(range ? { start: range.start, end: range.end } : {});
    return { body, size: range ? range.end - range.start + 1 : size };
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const s = await fsp.lstat(this.resolve(key));
      return s.isFile() ? { size: s.size } : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw mapError(err);
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== null;
  }

  async delete(key: string): Promise<void> {
    try {
      await fsp.rm(this.resolve(key), { force: true });
    } catch (err) {
      throw mapError(err);
    }
  }

  /** Disk writes go to "<key>.part-*" files, which the orphan sweep removes by age. */
  async abortIncomplete(): Promise<number> {
    return 0;
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    const base = prefix.replace(/\/+$/, '');
    const start = base ? this.resolve(base) : this.root;
    const stack = [start];
    while (stack.length > 0) {
      const dir = stack.pop()!;
      let entries: fs.Dirent[];
      try {
        entries = await fsp.readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') continue;
        throw mapError(err);
      }
      for (const e of entries) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) stack.push(full);
        else if (e.isFile()) {
          const s = await fsp.stat(full).catch(() => null);
          if (!s) continue;
          yield { key: path.relative(this.root, full).split(path.sep).join('/'), size: s.size, lastModified: s.mtime };
        }
      }
    }
  }

  async sign(_key: string, opts: SignOptions): Promise<string> {
    // The download route finds the object through the file row; the URL names the file only.
    return downloadUrl(this.opts.publicBaseUrl, this.opts.signingSecret, opts.fileId, opts.expiresInSeconds);
  }

  async check(): Promise<void> {
    // The root is created on the first upload; until then its nearest existing parent must be writable.
    let dir = this.root;
    for (;;) {
      try {
        await fsp.access(dir, fs.constants.W_OK);
        return;
      } catch (err) {
        const parent = path.dirname(dir);
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === dir) throw err;
        dir = parent;
      }
    }
  }
}
