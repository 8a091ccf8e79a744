// clamd over its socket (TCP or unix) with the INSTREAM command: the file is sent as
// length-prefixed chunks, so nothing is written to a shared disk and the service
// never holds the whole file. clamd must allow StreamMaxLength >= UPLOAD_MAX_BYTES,
// otherwise large files come back as "size limit exceeded" and end up failed.
import net from 'node:net';
import type { Readable } from 'node:stream';
import { ScannerError, type Scanner, type ScanResult } from './index.ts';

export type ClamdAddress = { socket: string } | { host: string; port: number };

const CHUNK = 64 * 1024;

export class ClamdScanner implements Scanner {
  constructor(
    private readonly address: ClamdAddress,
    private readonly timeoutMs = 120_000,
  ) {}

  private connect(): net.Socket {
    const socket =
      'socket' in this.address ? net.connect(this.address.socket) : net.connect(this.address.port, this.address.host);
    socket.setTimeout(this.timeoutMs);
    return socket;
  }

  /** Sends a command, streams an optional body, and returns clamd's single NUL-terminated reply. */
  private exchange(command: string, body?: Readable): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = this.connect();
      const replies: Buffer[] = [];
      let settled = false;
      const finish = (err: Error | null, reply?: string) => {
        if (settled) return;
        settled = true;
        socket.destroy();
        if (err) {
          body?.destroy();
          reject(err instanceof ScannerError ? err : new ScannerError(`clamd: ${err.message}`, { cause: err }));
        } else resolve(reply!);
      };
      socket.on('data', (d: Buffer) => {
        replies.push(d);
        const all = Buffer.concat(replies);
        const end = all.indexOf(0);
        // clamd may answer before the body is done (size limit): the reply wins.
        if (end >= 0) finish(null, all.subarray(0, end).toString('utf8').trim());
      });
      socket.on('timeout', () => finish(new ScannerError('clamd: timed out')));
      socket.on('error', (err) => finish(err));
      socket.on('close', () => finish(new ScannerError('clamd: connection closed without a reply')));
      socket.once('connect', async () => {
        socket.write(`z${command}\0`);
        if (!body) return;
        try {
          for await (const chunk of body) {
            for (let i = 0; i < (chunk as Buffer).length; i += CHUNK) {
              const piece = (chunk as Buffer).subarray(i, i + CHUNK);
              const len = Buffer.alloc(4);
              len.writeUInt32BE(piece.length);
              socket.write(len);
              if (!socket.write(piece)) await new Promise<void>((r) => (socket.once('drain', r), socket.once('close', r)));
              if (settled) return;
            }
          }
          socket.write(Buffer.alloc(4)); // zero-length chunk: end of stream
        } catch (err) {
          finish(err as Error);
        }
      });
    });
  }

  async scan(body: Readable): Promise<ScanResult> {
    const reply = await this.exchange('INSTREAM', body);
    // "stream: OK" | "stream: <signature> FOUND" | "<reason> ERROR"
    const m = /^(?:stream: )?(.*?)\s*(OK|FOUND|ERROR)$/.exec(reply);
    if (m?.[2] === 'OK') return { status: 'clean' };
    if (m?.[2] === 'FOUND') return { status: 'infected', signature: m[1]!.slice(0, 200) };
    throw new ScannerError(`clamd: ${reply.slice(0, 200) || 'empty reply'}`);
  }

  async ping(): Promise<void> {
    const reply = await this.exchange('PING');
    if (reply !== 'PONG') throw new ScannerError(`clamd: unexpected PING reply ${reply.slice(0, 50)}`);
  }
}
