#!/usr/bin/env node
// Writes the production package.json and package-lock.json of the build artifact into
// OUT_DIR (used by scripts/build-artifact.sh). The repository's manifest declares npm
// workspaces (the TypeScript client, the web app) whose folders the artifact does not
// carry, and `npm ci` refuses a lock that names workspaces it cannot find; so both
// files are written without them. Every other locked version is kept as is, which is
// what makes `npm ci --omit=dev` in OUT_DIR install exactly what CI tested.
// Usage: node scripts/artifact-manifest.mjs OUT_DIR
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2];
if (!out) {
  console.error('usage: node scripts/artifact-manifest.mjs OUT_DIR');
  process.exit(2);
}

const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
const workspaces = new Set((pkg.workspaces ?? []).map((w) => w.replace(/\/+$/, '')));

const prodPkg = {
  name: pkg.name,
  version: pkg.version,
  private: true,
  description: pkg.description,
  license: pkg.license,
  type: pkg.type,
  engines: pkg.engines,
  // Only what runs from the artifact: no TypeScript loader, no dev tooling.
  scripts: { start: pkg.scripts['start:prod'], migrate: 'node dist/cli/migrate.js' },
  dependencies: pkg.dependencies,
  // Kept so the lock stays in sync; `--omit=dev` leaves them uninstalled.
  devDependencies: pkg.devDependencies,
};

const packages = {};
for (const [key, entry] of Object.entries(lock.packages)) {
  if (workspaces.has(key)) continue; // the workspace folder itself
  if (entry.link && workspaces.has(entry.resolved)) continue; // node_modules/<ws> -> folder
  if ([...workspaces].some((w) => key.startsWith(`${w}/`))) continue; // nested in a workspace
  packages[key] = entry;
}
const rootEntry = { ...packages[''] };
delete rootEntry.workspaces;
rootEntry.devDependencies = pkg.devDependencies;
rootEntry.dependencies = pkg.dependencies;
packages[''] = rootEntry;

fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, 'package.json'), `${JSON.stringify(prodPkg, null, 2)}\n`);
fs.writeFileSync(path.join(out, 'package-lock.json'), `${JSON.stringify({ ...lock, packages }, null, 2)}\n`);
console.log(`artifact-manifest: wrote package.json and package-lock.json to ${out} (dropped workspaces: ${[...workspaces].join(', ') || 'none'})`);
