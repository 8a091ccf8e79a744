#!/usr/bin/env node
// Runs before `npm start`: builds the web app (web/dist) when it is missing or older
// than its sources, so a fresh clone serves it after `npm ci && npm start`. A no-op
// (one line) when the build is current. Never blocks the service from starting: when
// the build tools are absent (a production install without dev dependencies) it says
// so and the service answers / with a page that explains what to run.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const web = path.join(root, 'web');
const built = path.join(web, 'dist', 'index.html');
const sources = ['src', 'public', 'index.html', 'vite.config.ts', 'package.json'].map((p) => path.join(web, p));
sources.push(path.join(root, 'clients', 'ts', 'src'));

/** The newest modification time under p (a file or a folder), 0 when absent. */
function newest(p) {
  let st;
  try {
    st = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  return fs.readdirSync(p).reduce((m, name) => Math.max(m, newest(path.join(p, name))), st.mtimeMs);
}

if (!fs.existsSync(path.join(web, 'package.json'))) process.exit(0);
const builtAt = fs.existsSync(built) ? fs.statSync(built).mtimeMs : 0;
const changedAt = Math.max(...sources.map(newest));
if (builtAt > 0 && builtAt >= changedAt) {
  console.log('web app: web/dist is up to date');
  process.exit(0);
}
const vite = [path.join(web, 'node_modules', '.bin', 'vite'), path.join(root, 'node_modules', '.bin', 'vite')].find((p) => fs.existsSync(p));
if (!vite) {
  console.log('web app: not built and its build tools are not installed (run `npm ci` with dev dependencies, then `npm run build:web`)');
  process.exit(0);
}
console.log(builtAt ? 'web app: sources changed, rebuilding web/dist' : 'web app: building web/dist (first start)');
const r = spawnSync(vite, ['build', '--logLevel', 'warn'], { cwd: web, stdio: 'inherit' });
if (r.status !== 0) console.log('web app: build failed; the API starts anyway (see the errors above, then `npm run build:web`)');
