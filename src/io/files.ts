// Writing output files so that nothing is lost or half-written: directories created with errors
// that name the option and the problem, files replaced atomically, and a check that an output
// never lands on an input. And reading files back, with errors that name them.

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { parseJson, readObject } from './json.js';

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

/**
 * Replaces `path` with `data` atomically: written to a temporary name in the same directory,
 * flushed to disk, then renamed over it, so a reader (or a run killed meanwhile) sees the old
 * file or the new one, never a part. The host is in the temporary name: shards on several
 * machines may share a directory.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const temporary = `${path}.${hostname()}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let at = 0; at < bytes.byteLength; ) at += writeSync(fd, bytes, at, bytes.byteLength - at);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(temporary, path);
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** The real path of a file that may not exist yet (its directory resolved, links followed). */
function realTarget(path: string): string {
  const full = resolve(path);
  try {
    return realpathSync(full);
  } catch {
    try {
      return resolve(realpathSync(dirname(full)), basename(full));
    } catch {
      return full;
    }
  }
}

/** Throws when `output` is one of `inputs` (the same file, links followed): no command writes over what it reads. */
export function checkNotAnInput(output: string, inputs: readonly string[], what: string): void {
  const target = realTarget(output);
  const hit = inputs.find((input) => realTarget(input) === target);
  if (hit !== undefined) throw new Error(`${what} ${output} is an input of this command (${hit}); write it elsewhere`);
}

/** A file's bytes; the error names the file. */
export function readFileBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(`${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** A file holding one JSON object; every error names the file. */
export function readJsonFile(path: string): Record<string, unknown> {
  return readObject(parseJson(new TextDecoder().decode(readFileBytes(path)), path), path);
}
