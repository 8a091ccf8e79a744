#!/usr/bin/env node
// CI check: the committed typed client (clients/ts) matches what `npm run client:generate`
// makes from the current route schemas. Regenerates into a temporary folder and compares;
// exit 1 naming the stale files when they differ.
//   --client-dir <dir>  compare another copy of the client (the test uses a stale one)
//   --generated <dir>   compare against files already generated there (skip generating)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const GENERATED = ['openapi.json', 'src/schema.ts'];

function option(name) {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? path.resolve(process.argv[i + 1]) : null;
}

const clientDir = option('--client-dir') ?? path.join(root, 'clients/ts');
let generated = option('--generated');
let tmp = null;
if (!generated) {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-client-'));
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/generate-client.ts', '--out', tmp], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (run.status !== 0) {
    console.error('client:check: generating the client failed (see above)');
    process.exit(2);
  }
  generated = tmp;
}

const stale = GENERATED.filter((f) => {
  const committed = path.join(clientDir, f);
  if (!fs.existsSync(committed)) return true;
  return !fs.readFileSync(committed).equals(fs.readFileSync(path.join(generated, f)));
});
if (tmp) fs.rmSync(tmp, { recursive: true, force: true });

if (stale.length > 0) {
  const where = path.relative(root, clientDir) || clientDir;
  console.error(
    `client:check: ${stale.map((f) => `${where}/${f}`).join(', ')} ` +
      `${stale.length === 1 ? 'is' : 'are'} not what the route schemas generate now.\n` +
      'The OpenAPI document changed and the typed client was not regenerated: run `npm run client:generate` and commit the result.',
  );
  process.exit(1);
}
console.log(`client:check: ${path.relative(root, clientDir) || clientDir} is up to date with /openapi.json`);
