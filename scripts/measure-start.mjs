#!/usr/bin/env node
// Measures one start of the service: milliseconds from spawn to the "Server listening"
// log line and to the first `/readiness` 200, then the resident memory (VmRSS from
// /proc, Linux only) after an idle wait, then stops it with SIGTERM. Prints one JSON line.
// The command must exec node itself (not `npm start`), so the pid measured is the server's.
//
//   node scripts/measure-start.mjs [--port 18300] [--idle 10] [--cwd DIR] -- node dist/main.js
//
// The child inherits the environment plus PORT and HOST=127.0.0.1 (set the rest, e.g.
// DATABASE_URL or DATA_DIR, in the environment of this script).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const args = process.argv.slice(2);
const sep = args.indexOf('--');
if (sep < 0 || sep === args.length - 1) {
  console.error('usage: node scripts/measure-start.mjs [--port N] [--idle S] [--cwd DIR] -- <command...>');
  process.exit(2);
}
const opts = args.slice(0, sep);
const opt = (name, def) => (opts.includes(name) ? opts[opts.indexOf(name) + 1] : def);
const port = Number(opt('--port', '18300'));
const idleSeconds = Number(opt('--idle', '10'));
const cwd = opt('--cwd', process.cwd());
const [cmd, ...cmdArgs] = args.slice(sep + 1);

const rssMb = (pid) => {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : null;
};

const t0 = performance.now();
const child = spawn(cmd, cmdArgs, {
  cwd,
  env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let listeningMs = null;
let output = '';
const onData = (d) => {
  output = (output + d).slice(-20_000);
  if (listeningMs === null && /Server listening/.test(output)) listeningMs = Math.round(performance.now() - t0);
};
child.stdout.on('data', onData);
child.stderr.on('data', onData);
let exited = null;
const exit = new Promise((resolve) => child.on('exit', (code, signal) => resolve((exited = { code, signal }))));

let readyMs = null;
const deadline = Date.now() + 180_000;
while (readyMs === null && exited === null && Date.now() < deadline) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readiness`);
    await res.arrayBuffer();
    if (res.status === 200) readyMs = Math.round(performance.now() - t0);
  } catch {
    /* not listening yet */
  }
  if (readyMs === null) await sleep(50);
}
const result = { command: [cmd, ...cmdArgs].join(' '), listening_ms: listeningMs, ready_ms: readyMs };
if (readyMs !== null) {
  result.rss_mb_ready = rssMb(child.pid);
  await sleep(idleSeconds * 1000);
  result[`rss_mb_idle_${idleSeconds}s`] = rssMb(child.pid);
}
if (exited === null) child.kill('SIGTERM');
const stopped = await Promise.race([exit, sleep(30_000).then(() => null)]);
if (stopped === null) child.kill('SIGKILL');
result.exit = stopped;
console.log(JSON.stringify(result));
if (readyMs === null) {
  console.error(output.slice(-3000));
  process.exit(1);
}
