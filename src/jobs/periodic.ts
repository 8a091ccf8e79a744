// A job that runs `run` every interval on this instance, one run at a time (a slow
// run delays the next instead of piling up); stop() waits for the current run.
// Running once across instances is each job's own business (locks, leases).
import type { Job } from './index.ts';

export function periodic(name: string, intervalMs: number, run: () => Promise<unknown>, onError: (err: unknown) => void): Job {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(run).catch(onError);
  }, intervalMs);
  timer.unref();
  return {
    name,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
