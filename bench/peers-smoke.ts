// Smoke benchmark of the peers (jax-js, tfjs) at the benchmark shapes, on
// Dawn + SwiftShader. Prints tinybench's mean latency, sample count and
// GFLOP/s per case. Usage: node peers-smoke.js [peerName ...]
// Environment: PEERS_ITERS (minimum timed calls per case, default 3),
// PEERS_TIME_MS (time budget per case, default 2000).

import { Bench } from 'tinybench';
import { jaxPeer, peers, type PeerCase } from './peers.js';

process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
process.env.XDG_RUNTIME_DIR ??= '/tmp';

const { create, globals } = await import('webgpu');
Object.assign(globalThis, globals);
const gpu = create([]);

const iterations = Number(process.env.PEERS_ITERS ?? 3);
const time = Number(process.env.PEERS_TIME_MS ?? 2000);

/** Milliseconds for a fixed JS loop: a CPU-speed probe, since SwiftShader timings follow it. */
function cpuProbeMs(): number {
  const t = performance.now();
  let s = 0;
  for (let i = 0; i < 1e8; i++) s += i * 0.5;
  if (s < 0) console.log(s);
  return performance.now() - t;
}

const only = process.argv.slice(2);
const selected = only.length > 0 ? peers.filter((p) => only.includes(p.name)) : peers;

// Conv: batch 32, 64 -> 64 channels, 32x32, 3x3, pad 1. Matmul 512^3.
const conv = [32, 64, 32, 32, 64, 3, 1] as const;

for (const peer of selected) {
  const t0 = performance.now();
  await peer.setup(gpu);
  console.log(`# ${peer.name}: setup ${(performance.now() - t0).toFixed(0)} ms`);
  if (peer === jaxPeer) {
    // What the jitted backward contains (tiny shapes, same structure).
    console.log(`# jax-js backward jaxpr (n1 c2->3 4x4 k3):\n${jaxPeer.backwardJaxpr(1, 2, 4, 4, 3, 3, 1)}`);
  }
  const cases: PeerCase[] = [
    await peer.matmul(512, 512, 512),
    await peer.conv2dForward(...conv),
    await peer.conv2dBackward(...conv),
  ];
  for (const c of cases) {
    // One warmup call (it includes shader compilation), then at least
    // `iterations` timed calls, continuing until `time` ms have been spent.
    const probeBefore = cpuProbeMs();
    const bench = new Bench({ time, iterations, warmup: true, warmupIterations: 1, warmupTime: 0, throws: true });
    bench.add(c.name, c.run);
    await bench.run();
    const r = bench.tasks[0]!.result;
    if (r.state !== 'completed') throw new Error(`${peer.name} ${c.name}: ${r.state}`);
    const meanMs = r.latency.mean;
    const gflops = c.flops / (meanMs * 1e-3) / 1e9;
    console.log(
      `${peer.name.padEnd(7)} ${c.name.padEnd(32)} mean ${meanMs.toFixed(1).padStart(8)} ms ` +
        `(min ${r.latency.min.toFixed(1)}, max ${r.latency.max.toFixed(1)}, n=${r.latency.samplesCount})  ` +
        `${gflops.toFixed(3)} GFLOP/s  [cpu probe ${probeBefore.toFixed(0)}/${cpuProbeMs().toFixed(0)} ms]`,
    );
    c.dispose();
  }
}
process.exit(0);
