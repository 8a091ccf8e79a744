// Background jobs, started on every instance; each job makes itself safe to run on
// N instances (advisory lock or SKIP LOCKED). Domains add their jobs here.
import type { AppContext } from '../context.ts';

export interface Job {
  name: string;
  stop(): Promise<void>;
}

export async function startJobs(ctx: AppContext): Promise<{ stop(): Promise<void> }> {
  const running: Job[] = [];
  if (!ctx.config.jobs.enabled) return { stop: async () => undefined };
  return {
    async stop() {
      await Promise.all(running.map((j) => j.stop()));
    },
  };
}
