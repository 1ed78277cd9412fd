// A wasm backend thread: instantiates the kernels it is sent on the shared memory, says it is
// ready, then serves jobs (threads.ts) until the pool stops. The same file runs as a Node
// worker_threads worker and as a browser module Web Worker.

import { serveJobs } from './threads.js';
import type { Kernels } from './tasks.js';

interface Start {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  thread: number;
}

function start({ module, memory, thread }: Start, ready: () => void): void {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  ready();
  serveJobs(memory, instance.exports as unknown as Kernels, thread);
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;
if (isNode) {
  const { parentPort, workerData } = await import('node:worker_threads');
  start(workerData as Start, () => parentPort!.postMessage('ready'));
} else {
  const scope = globalThis as unknown as { onmessage: ((e: MessageEvent<Start>) => void) | null; postMessage(m: unknown): void };
  scope.onmessage = (e) => {
    scope.onmessage = null;
    start(e.data, () => scope.postMessage('ready'));
  };
}
