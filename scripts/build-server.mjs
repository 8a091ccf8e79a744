#!/usr/bin/env node
// npm run build:server: compiles src/ (tests excluded) into dist/ with tsc, then copies
// the files tsc does not emit but the service reads at runtime next to its code
// (src/db/migrate.ts finds the SQL migrations beside itself, in db/migrations/).
// dist/ is emptied first so a deleted source never lingers as a stale .js file.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const assets = [['src/db/migrations', 'dist/db/migrations']];

fs.rmSync(dist, { recursive: true, force: true });
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const run = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (run.status !== 0) {
  console.error(`build:server: tsc failed (exit ${run.status ?? run.signal})`);
  process.exit(1);
}
for (const [from, to] of assets) {
  fs.cpSync(path.join(root, from), path.join(root, to), { recursive: true });
}
if (!fs.existsSync(path.join(dist, 'main.js'))) {
  console.error('build:server: dist/main.js is missing after tsc');
  process.exit(1);
}
const count = fs.readdirSync(path.join(dist, 'db', 'migrations')).filter((f) => f.endsWith('.sql')).length;
console.log(`build:server: dist/ written (${count} migrations copied)`);
