// Preloaded into the service by bench/memory.ts (NODE_OPTIONS=--require): on SIGUSR2 it
// writes what the process's memory is made of to $AURALINK_MEMPROBE (one JSON line per
// signal): V8's view (process.memoryUsage, heap spaces) and the kernel's (smaps_rollup:
// anonymous memory against the node binary's file-backed pages), and malloc's arenas.
'use strict';
const fs = require('node:fs');
const v8 = require('node:v8');

// V8 flags that NODE_OPTIONS refuses (--heap-growing-percent...), set before the app loads.
for (const flag of (process.env.AURALINK_V8_FLAGS ?? '').split(/\s+/).filter(Boolean)) v8.setFlagsFromString(flag);

const out = process.env.AURALINK_MEMPROBE;
if (out) {
  // `${out}.gc` present: a full collection first, so the numbers are what is live.
  let gc = null;
  process.on('SIGUSR2', () => {
    if (fs.existsSync(`${out}.gc`)) {
      if (!gc) {
        v8.setFlagsFromString('--expose-gc');
        gc = require('node:vm').runInNewContext('gc');
      }
      gc();
    }
    const kb = (re, text) => Number(re.exec(text)?.[1] ?? 0) / 1024;
    const smaps = fs.readFileSync('/proc/self/smaps_rollup', 'utf8');
    const m = process.memoryUsage();
    const mb = (b) => Math.round((b / 1048576) * 10) / 10;
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, mb(s.space_size)]));
    const line = {
      at: Date.now(),
      rss: mb(m.rss),
      anon: Math.round(kb(/Anonymous:\s+(\d+)/, smaps) * 10) / 10,
      file: Math.round((kb(/Rss:\s+(\d+)/, smaps) - kb(/Anonymous:\s+(\d+)/, smaps)) * 10) / 10,
      heapUsed: mb(m.heapUsed),
      heapTotal: mb(m.heapTotal),
      external: mb(m.external),
      arrayBuffers: mb(m.arrayBuffers),
      spaces,
    };
    fs.appendFileSync(out, `${JSON.stringify(line)}\n`);
  });
}
