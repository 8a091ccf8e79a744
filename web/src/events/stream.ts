// The signed-in user's live events (GET /api/v1/events, text/event-stream) read with
// fetch, so the token travels in the Authorization header. Reconnects with backoff and
// resumes with Last-Event-ID, so nothing in the server's resume window is missed.
import type { ApiPath } from '@auralink/client';
import { backoffMs, SseParser } from './sse.ts';

export interface LiveEvent {
  event_id: number;
  type: string;
  call_id: string | null;
  payload: Record<string, unknown>;
  created_at: string;
}

export type StreamStatus = 'connecting' | 'open' | 'reconnecting' | 'stopped';

export interface StreamOptions {
  getToken: () => Promise<string | null>;
  onEvent: (e: LiveEvent) => void;
  onStatus: (s: StreamStatus) => void;
  /** The token was refused: stop, the session is over. */
  onUnauthorized: () => void;
}

const EVENTS_PATH = '/api/v1/events' satisfies ApiPath;

/** Starts the stream; the returned function stops it. */
export function openEventStream(opts: StreamOptions): () => void {
  const abort = new AbortController();
  let lastEventId: string | null = null;
  let failures = 0;
  let serverRetry: number | null = null;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      abort.signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    });

  const run = async () => {
    while (!abort.signal.aborted) {
      opts.onStatus(failures === 0 && lastEventId === null ? 'connecting' : 'reconnecting');
      try {
        const token = await opts.getToken();
        if (!token) break;
        const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Bearer ${token}` };
        if (lastEventId) headers['last-event-id'] = lastEventId;
        const res = await fetch(EVENTS_PATH, { headers, signal: abort.signal, cache: 'no-store' });
        if (res.status === 401) {
          opts.onUnauthorized();
          break;
        }
        if (!res.ok || !res.body) throw new Error(`event stream answered ${res.status}`);
        opts.onStatus('open');
        failures = 0;
        const parser = new SseParser();
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const msg of parser.feed(value)) {
            if (msg.event === 'error') throw new Error('event stream reported an error');
            try {
              opts.onEvent(JSON.parse(msg.data) as LiveEvent);
            } catch {
              // A malformed event is skipped; the stream goes on.
            }
          }
          lastEventId = parser.lastEventId ?? lastEventId;
          serverRetry = parser.retryMs ?? serverRetry;
        }
      } catch {
        if (abort.signal.aborted) break;
      }
      if (abort.signal.aborted) break;
      opts.onStatus('reconnecting');
      await sleep(Math.max(serverRetry ?? 0, backoffMs(failures++)));
    }
    opts.onStatus('stopped');
  };
  void run();
  return () => abort.abort();
}
