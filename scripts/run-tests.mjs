#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node's test runner (Node 20 does
// not expand globs itself). `--unit` runs only the tests beside the code in src/.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const unitOnly = process.argv.includes('--unit');
const extra = process.argv.slice(2).filter((a) => a !== '--unit');
const roots = unitOnly ? ['src'] : ['src', 'test'];

function walk(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : walk(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

const files = extra.length > 0 ? extra : roots.flatMap(walk).sort();
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}
// Where the test services live (scripts/test-services.sh env prints them without
// starting anything); variables already set in the environment win.
const serviceEnv = {};
const printed = spawnSync('bash', ['scripts/test-services.sh', 'env'], { encoding: 'utf8' });
if (printed.status === 0) {
  for (const m of printed.stdout.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)) {
    if (process.env[m[1]] === undefined) serviceEnv[m[1]] = m[2].replace(/^'(.*)'$/, '$1');
  }
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files],
  { stdio: 'inherit', env: { ...serviceEnv, ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
