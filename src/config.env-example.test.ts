// Every variable the configuration reads is documented in .env.example.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { it } from 'node:test';

it('.env.example lists every variable config.ts reads', () => {
  const source = fs.readFileSync(new URL('./config.ts', import.meta.url), 'utf8');
  const read = new Set([...source.matchAll(/\(env, '([A-Z0-9_]+)'/g)].map((m) => m[1]!));
  const example = fs.readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
  const documented = new Set([...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]!));
  assert.ok(read.size > 30);
  assert.deepEqual([...read].filter((v) => !documented.has(v)), []);
});
