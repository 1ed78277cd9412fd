// Blocks of the wasm backend's one WebAssembly.Memory, pooled by size class.
//
// A request is rounded up to its class: multiples of 64 bytes up to 4 KiB, four classes per
// power of two up to 1 MiB (at most 25% slack), then multiples of 64 KiB. A freed block goes to its class's free list and is
// reused only by a request of that class; new blocks are cut from the top of the memory,
// which grows when needed. A training loop allocates the same sizes every step, so after the
// first step everything comes from the free lists and the memory stays flat.
//
// Blocks are 64-byte aligned and a class is never smaller than the request plus 16 bytes, so
// kernels may read and write a whole v128 at the last element of a storage.

/** Bytes below this address are the backend's own (thread control block, scratch). */
export const RESERVED_BYTES = 65536;
const PAGE = 65536;
const ALIGN = 64;
/** wasm32: 65536 pages of 64 KiB. */
export const MAX_PAGES = 65536;

export function sizeClass(bytes: number): number {
  const need = bytes + 16;
  if (need <= 4096) return Math.ceil(need / ALIGN) * ALIGN;
  if (need > 2 ** 20) return Math.ceil(need / PAGE) * PAGE;
  const quarter = 2 ** Math.floor(Math.log2(need)) / 4;
  return Math.ceil(need / quarter) * quarter;
}

export class BlockPool {
  private readonly free = new Map<number, number[]>();
  private top = RESERVED_BYTES;
  /** Blocks cut so far, in use or pooled (as the WebGPU backend counts its buffers). */
  private liveBlocks = 0;
  private liveBytes = 0;
  private pooledBytes = 0;

  constructor(private readonly memory: WebAssembly.Memory) {}

  /** A block of at least `bytes`: its address and its class size. */
  allocate(bytes: number, what: () => string): { ptr: number; bytes: number } {
    const size = sizeClass(bytes);
    const reused = this.free.get(size)?.pop();
    if (reused !== undefined) {
      this.pooledBytes -= size;
      this.liveBytes += size;
      return { ptr: reused, bytes: size };
    }
    const end = this.top + size;
    const gib = (n: number): string => `${(n / 2 ** 30).toFixed(2)} GiB`;
    const full = (limit: string): Error =>
      new Error(
        `wasm backend: ${what()} needs ${gib(bytes)}, but ${limit}: ${gib(this.liveBytes)} are held by live tensors ` +
          `(dispose() them, or run each step in tg.scope: tensors dropped without dispose() are freed by the garbage collector only between ` +
          `event-loop turns), ${gib(this.pooledBytes)} are pooled for reuse by other sizes`,
      );
    if (end > MAX_PAGES * PAGE) throw full('WebAssembly memory is limited to 4 GiB');
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const needed = Math.ceil((end - have) / PAGE);
      // Grow by at least a quarter of the current size: fewer, larger steps. A runtime that
      // refuses (a browser's memory limit) gets asked for exactly what is needed.
      const pages = Math.min(MAX_PAGES - have / PAGE, Math.max(needed, Math.ceil(have / PAGE / 4)));
      try {
        this.memory.grow(pages);
      } catch {
        try {
          this.memory.grow(needed);
        } catch {
          throw full(`this runtime refused to grow WebAssembly memory past ${gib(have)}`);
        }
      }
    }
    const ptr = this.top;
    this.top = end;
    this.liveBlocks++;
    this.liveBytes += size;
    return { ptr, bytes: size };
  }

  release(ptr: number, bytes: number): void {
    let list = this.free.get(bytes);
    if (!list) {
      list = [];
      this.free.set(bytes, list);
    }
    list.push(ptr);
    this.liveBytes -= bytes;
    this.pooledBytes += bytes;
  }

  stats(): { liveBuffers: number; liveBytes: number; pooledBytes: number } {
    return { liveBuffers: this.liveBlocks, liveBytes: this.liveBytes, pooledBytes: this.pooledBytes };
  }
}
