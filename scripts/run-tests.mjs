#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node's test runner (Node 20 does
// not expand globs itself). `--unit` runs only the tests beside the code in src/.
// `--workers auto|N` runs the chosen files with TEST_WORKERS set: every test app serves
// its requests from the real service as N workers (test/helpers/workers-app.ts). Under
// CI=true a whole run ends with that pass too: the integration files again, WORKERS=auto.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const inCI = /^(1|true)$/i.test(process.env.CI ?? '');
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const workersAt = args.indexOf('--workers');
const workersArg = workersAt >= 0 ? args[workersAt + 1] : undefined;
if (workersAt >= 0 && !/^(auto|[1-9][0-9]*)$/.test(workersArg ?? '')) {
  console.error('run-tests: --workers takes auto or a number');
  process.exit(2);
}
const extra = args.filter((a, i) => a !== '--unit' && (workersAt < 0 || (i !== workersAt && i !== workersAt + 1)));
// web/src holds the web app's pure logic (SSE parsing, stats mapping) with its tests.
const roots = unitOnly ? ['src', 'web/src'] : ['src', 'web/src', 'test'];

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
// Browser tests each hold a real call through the one test LiveKit, whose webhooks go to a
// fixed port: they run one at a time, after the rest (which runs `concurrency` at once).
const isSerial = (f) => f.split(path.sep).includes('browser');
const workersEnv = workersArg ? { TEST_WORKERS: workersArg } : {};
// The files whose apps the workers pass moves into a cluster: those that start a test app.
const usesTestApp = (f) => fs.readFileSync(f, 'utf8').includes('startTestApp(');
const batches = [
  { files: files.filter((f) => !isSerial(f)), concurrency, env: workersEnv },
  { files: files.filter(isSerial), concurrency: '1', env: workersEnv },
  ...(inCI && !workersArg && !unitOnly && extra.length === 0
    ? [{ files: files.filter((f) => !isSerial(f) && usesTestApp(f)), concurrency, env: { TEST_WORKERS: 'auto' }, tag: 'WORKERS=auto' }]
    : []),
].filter((b) => b.files.length > 0);
// Two reporters: spec for people, and a JSON-lines file from which the closing summary
// is written (see scripts/test-summary-reporter.mjs for why node's own is not enough).
const summaryFiles = [];
let runnerFailed = false;
for (const [i, batch] of batches.entries()) {
  const summaryFile = path.join(os.tmpdir(), `auralink-test-summary-${process.pid}-${i}.jsonl`);
  summaryFiles.push({ file: summaryFile, tag: batch.tag ?? (workersArg ? `WORKERS=${workersArg}` : undefined) });
  if (batch.tag) console.log(`\n== the integration tests again, each app served by the service with ${batch.tag} (${batch.files.length} files)`);
  const result = spawnSync(
    process.execPath,
    [
      '--import', 'tsx', '--test', `--test-concurrency=${batch.concurrency}`,
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      `--test-reporter=${path.resolve('scripts/test-summary-reporter.mjs')}`, `--test-reporter-destination=${summaryFile}`,
      ...batch.files,
    ],
    { stdio: 'inherit', env: { ...serviceEnv, ...process.env, ...batch.env, NODE_ENV: 'test' } },
  );
  if (result.status !== 0) runnerFailed = true;
}
process.exit(printSummary(summaryFiles) && !runnerFailed ? 0 : 1);

/** Prints the closing summary; false when it shows a failure (or a skip under CI=true). */
function printSummary(summaryFiles) {
  const missing = summaryFiles.filter((s) => !fs.existsSync(s.file)).map((s) => s.file);
  if (missing.length > 0) console.log(`\nrun-tests: the test runner wrote no results to ${missing.join(', ')}`);
  const rows = summaryFiles
    .filter((s) => fs.existsSync(s.file))
    .flatMap((s) => {
      const lines = fs.readFileSync(s.file, 'utf8').split('\n').filter(Boolean);
      fs.rmSync(s.file, { force: true });
      // A pass under WORKERS names its rows apart ([WORKERS=auto] before the name).
      return lines.map((l) => ({ ...JSON.parse(l), tag: s.tag }));
    });
  const tests = rows.filter((r) => !r.suite);
  const passed = tests.filter((r) => r.outcome === 'pass' && r.skip === null && !r.todo).length;
  // A failed suite is counted only when none of its file's tests failed (a hook that
  // threw), so one failing test is not counted again for each suite around it.
  const failedTests = tests.filter((r) => r.outcome === 'fail' && !r.todo);
  const failedFiles = new Set(failedTests.map((r) => `${r.tag}|${r.file}`));
  const failedSuites = rows.filter((r) => r.suite && r.outcome === 'fail' && !failedFiles.has(`${r.tag}|${r.file}`));
  const failed = failedTests.length + failedSuites.length;
  const skippedTests = tests.filter((r) => r.skip !== null);
  // A skipped suite's tests are never reported; the suite itself stands for them.
  const skippedSuites = rows.filter((r) => r.suite && r.skip !== null);
  const skipped = skippedTests.length + skippedSuites.length;
  const rel = (f) => (f ? path.relative(process.cwd(), f.replace(/^file:\/\//, '')) : '?');
  const where = (r) => `${r.tag ? `[${r.tag}] ` : ''}${rel(r.file)}`;
  console.log('\n== summary');
  for (const r of [...skippedSuites, ...skippedTests]) {
    console.log(`skipped ${r.suite ? 'suite' : 'test'}: ${where(r)} > ${r.name}${r.skip ? ` (${r.skip})` : ''}`);
  }
  for (const r of [...failedSuites, ...failedTests]) console.log(`failed: ${where(r)} > ${r.name}`);
  const tagged = tests.filter((r) => r.tag);
  if (tagged.length > 0) {
    const ok = tagged.filter((r) => r.outcome === 'pass' && r.skip === null && !r.todo).length;
    console.log(`of which with ${tagged[0].tag}: ${ok} passed, ${tagged.filter((r) => r.outcome === 'fail' && !r.todo).length} failed, ${tagged.filter((r) => r.skip !== null).length} skipped`);
  }
  const ciSkipFails = inCI && skipped > 0;
  if (ciSkipFails) console.log('CI=true: a skipped test is a failure here (a service the suite needs is missing?)');
  if (passed === 0 && failed === 0) console.log('run-tests: no test ran');
  console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  return failed === 0 && !ciSkipFails && passed > 0 && missing.length === 0;
}