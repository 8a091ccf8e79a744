// Counts round trips to PostgreSQL: a round trip starts when a connection writes a
// message that the server answers with ReadyForQuery (a simple Query, or the Sync that
// ends an extended query) while nothing else is outstanding on that connection. What
// is written while an answer is still awaited (pipelining) rides on the same trip.
import pg from 'pg';

type Conn = { sync(...a: unknown[]): unknown; query(...a: unknown[]): unknown; on(e: string, f: () => void): void };
const state = new WeakMap<object, { outstanding: number }>();
let trips = 0;
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const proto = (pg as unknown as { Connection: { prototype: Conn } }).Connection.prototype;
  for (const method of ['sync', 'query'] as const) {
    const original = proto[method];
    proto[method] = function (this: Conn, ...args: unknown[]) {
      let s = state.get(this);
      if (!s) {
        const fresh = { outstanding: 0 };
        state.set(this, fresh);
        this.on('readyForQuery', () => (fresh.outstanding = Math.max(0, fresh.outstanding - 1)));
        s = fresh;
      }
      if (s.outstanding === 0) trips++;
      s.outstanding++;
      return original.apply(this, args);
    };
  }
}

/** Round trips (on every pg connection of this process) while fn runs. */
export async function roundTrips(fn: () => Promise<unknown>): Promise<number> {
  install();
  const before = trips;
  await fn();
  return trips - before;
}
