// Creating output directories with errors that name the option and the problem.

import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * `mkdir -p dir`, one level at a time: Node 20's recursive mkdirSync never returns for some
 * impossible paths (under /proc), and its errors name no option. `what` is the option, e.g. '--out'.
 */
export function makeDirectory(dir: string, what: string): void {
  const missing: string[] = [];
  let at = resolve(dir);
  while (!existsSync(at)) {
    missing.push(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  // `at` exists now (the root at worst).
  if (!statSync(at).isDirectory()) throw new Error(`${what} ${dir}: ${at} is a file, not a directory`);
  for (const path of missing.reverse()) {
    try {
      mkdirSync(path);
    } catch (e) {
      throw new Error(`${what} ${dir}: cannot create the directory ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
}
