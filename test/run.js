#!/usr/bin/env node
'use strict';
// Runs the compiled tests with Node's test runner: unit specs beside the code, then the
// end-to-end suites in test/. `--unit` or `--e2e` runs one kind.
const { spawnSync } = require('node:child_process');
const { readdirSync, statSync } = require('node:fs');
const { join, relative } = require('node:path');

const root = join(__dirname, '..');
function find(dir, suffix, out = []) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) find(path, suffix, out);
    else if (name.endsWith(suffix)) out.push(path);
  }
  return out;
}

const args = process.argv.slice(2);
const unit = !args.includes('--e2e');
const e2e = !args.includes('--unit');
const files = [];
if (unit)
  for (const top of ['apps', 'libs'])
    for (const project of readdirSync(join(root, top)))
      files.push(...find(join(root, top, project, 'dist'), '.spec.js'));
if (e2e) files.push(...find(join(__dirname, 'dist', 'e2e'), '.e2e.js'));
if (!files.length) {
  console.error('no compiled tests found: run `npm run build` first');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  [
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec',
    ...args.filter((a) => a.startsWith('--test-name-pattern')),
    ...files.map((f) => relative(root, f)),
  ],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
