// The real LiveKit server started by scripts/test-services.sh, for tests that need it.
import { RoomServiceClient } from 'livekit-server-sdk';
import { serviceSkip, tcpReachable, urlHostPort } from './services.ts';

export const livekitEnv = {
  url: process.env.TEST_LIVEKIT_URL ?? 'ws://127.0.0.1:7880',
  apiKey: process.env.TEST_LIVEKIT_API_KEY ?? '',
  apiSecret: process.env.TEST_LIVEKIT_API_SECRET ?? '',
  webhookUrl: process.env.TEST_LIVEKIT_WEBHOOK_URL ?? 'http://127.0.0.1:18089/api/v1/webhooks/livekit',
};

/** The `skip` option for a describe that needs LiveKit (throws in CI when it is missing). */
export async function livekitSkip(): Promise<string | false> {
  const { host, port } = urlHostPort(livekitEnv.url.replace(/^ws/, 'http'), 7880);
  const up = (await tcpReachable(host, port)) && livekitEnv.apiKey !== '' && livekitEnv.apiSecret !== '';
  return serviceSkip('LiveKit', up, `${livekitEnv.url}; eval "$(bash scripts/test-services.sh env)" for its key`);
}

export function livekitAppEnv(): Record<string, string> {
  return { LIVEKIT_URL: livekitEnv.url, LIVEKIT_API_KEY: livekitEnv.apiKey, LIVEKIT_API_SECRET: livekitEnv.apiSecret };
}

export function roomService(): RoomServiceClient {
  return new RoomServiceClient(livekitEnv.url.replace(/^ws/, 'http'), livekitEnv.apiKey, livekitEnv.apiSecret);
}

/** Polls until `check` returns a value (not undefined/false) or the time is up. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
