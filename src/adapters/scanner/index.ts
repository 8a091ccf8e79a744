// The virus-scanner interface. An adapter scans a byte stream and says clean or
// infected; anything else (unreachable, limits, protocol errors) is a ScannerError
// and the scan queue retries it.
import type { Readable } from 'node:stream';
import type { Config } from '../../config.ts';

export type ScanResult = { status: 'clean' } | { status: 'infected'; signature: string };

export interface Scanner {
  scan(body: Readable): Promise<ScanResult>;
  /** Readiness probe. */
  ping(): Promise<void>;
}

export class ScannerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ScannerError';
  }
}

export async function createScanner(config: Config): Promise<Scanner | null> {
  if (!config.scanner.enabled) return null;
  const { ClamdScanner } = await import('./clamd.ts');
  return new ClamdScanner(
    config.scanner.clamdSocket
      ? { socket: config.scanner.clamdSocket }
      : { host: config.scanner.clamdHost!, port: config.scanner.clamdPort },
  );
}
