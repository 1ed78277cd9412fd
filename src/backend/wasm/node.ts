// Node only: what the wasm backend needs from Node (V8 switches, the core count, worker
// threads). Imported dynamically by backend.ts, so browsers never reach it.

import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { SpawnWorker } from './threads.js';

export const setV8Flag = (flag: string): void => setFlagsFromString(flag);

export const cores = (): number => availableParallelism();

export const spawnWorker: SpawnWorker = async (module, memory, thread) => {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { module, memory, thread } });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`exited with code ${code} before it was ready`)));
  });
  // Waiting workers must not keep the process alive.
  worker.unref();
  return { terminate: () => void worker.terminate() };
};
