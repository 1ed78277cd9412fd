#!/usr/bin/env node
// Runs the compiled test suite (dist/test/*.test.js) with Node's built-in runner, one file at a
// time (--test-concurrency=1: several SwiftShader devices would fight over the CPU cores), and
// exits with its status. Node 20's --test takes no globs, so the files are listed here.
// Extra arguments are passed to node before the files, e.g. --test-name-pattern=matmul or
// --test-reporter=tap (the default here is spec).
// Only files with a test/*.test.ts source count (dist/ may hold stale outputs).

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const distTest = join(root, 'dist', 'test');
if (!existsSync(distTest)) {
  console.error('run-tests: dist/test does not exist; run `npm run build` first');
  process.exit(1);
}
const files = readdirSync(distTest)
  .filter((f) => f.endsWith('.test.js') && existsSync(join(root, 'test', f.replace(/\.js$/, '.ts'))))
  .sort()
  .map((f) => join('dist', 'test', f));
if (files.length === 0) {
  console.error('run-tests: no test files in dist/test');
  process.exit(1);
}

const extra = process.argv.slice(2);
// The spec reporter (readable, with a summary of failures) unless a reporter is given.
const reporter = extra.some((a) => a.startsWith('--test-reporter')) ? [] : ['--test-reporter=spec'];
const started = Date.now();
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...reporter, ...extra, ...files], { cwd: root, stdio: 'inherit' });
console.log(`run-tests: ${files.length} files in ${((Date.now() - started) / 1000).toFixed(1)} s`);
if (result.error) {
  console.error(`run-tests: could not start node: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
