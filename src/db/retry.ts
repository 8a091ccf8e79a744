// PostgreSQL cancels one transaction of a deadlock (40P01) or of a serialization
// conflict (40001) and rolls it back whole: nothing of it was written, so running it
// again is safe when its function has no effect outside the database. Lock order
// (migration 012) makes these rare; this is the defence in depth behind it.

const TRANSIENT = new Set(['40P01', '40001']);

/** A deadlock or serialization failure: the transaction was rolled back and may be retried. */
export function isTransientConflict(err: unknown): boolean {
  return typeof err === 'object' && err !== null && TRANSIENT.has((err as { code?: string }).code ?? '');
}

/**
 * Runs `run` (one whole transaction, e.g. () => db.asUser(...)) and, if PostgreSQL
 * cancelled it as a deadlock or serialization victim, once more after a short random
 * pause (so two victims do not meet again in step). Only for transactions whose
 * function does nothing outside the database. A second failure is thrown; the error
 * handler answers it 503 with Retry-After.
 */
export async function retryOnConflict<T>(run: () => Promise<T>, retries = 1): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (attempt >= retries || !isTransientConflict(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
    }
  }
}
