// Running the built CLI (dist/src/cli/bin.js) from tests.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: readonly string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [join('dist', 'src', 'cli', 'bin.js'), ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Each `args` exits with code 2 and exactly one `ticketgrad:` line on stderr, matching `expected`. */
export function assertUsageErrors(cases: readonly (readonly [readonly string[], RegExp])[]): void {
  for (const [args, expected] of cases) {
    const r = runCli(args);
    assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}, stderr ${r.stderr}`);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('ticketgrad:'));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], expected);
  }
}
