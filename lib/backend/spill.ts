/**
 * Tensors spilled out of the WASM heap when it runs short.
 *
 * tfjs-wasm keeps every tensor in its WebAssembly memory, which is wasm32:
 * it can grow to 4 GiB and no further, and past 3.5 GiB not safely
 * ({@link WASM_HEAP_LIMIT}). Training holds every activation of the
 * forward pass until the backward pass has used it, so large batches
 * outgrow the heap. Past the budget (default
 * {@link DEFAULT_HEAP_BUDGET}), this module copies the least recently used
 * tensors out to JavaScript memory and frees their heap blocks; a spilled
 * tensor comes back (to a new address) the moment anything asks for its
 * data. The backward pass uses the activations in the reverse order of the
 * forward pass, so the least recently used ones are the ones needed last.
 *
 * How: {@link installHeapSpill} watches the backend's tensor table
 * (`dataIdMap`: a new entry is a resident tensor, a removed one is freed;
 * reading an entry brings a spilled tensor back) and its allocator
 * (`wasm._malloc`: past the budget, or when an allocation fails, tensors
 * are spilled first). A kernel works on raw addresses of its inputs and of
 * what it allocates, so nothing it has touched may move while it runs:
 * every kernel the engine runs brings its inputs back before it starts, and
 * what was touched since the outermost running kernel began is never
 * spilled. Below the budget nothing is ever copied; the cost is a map
 * look-up per access.
 *
 * @module
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { tf } from "../tf.ts";
import { backendMemory } from "./simd/mod.ts";

/**
 * The most tfjs-wasm's heap may grow to here: 3.5 GiB of the 4 GiB a
 * wasm32 memory can address. Its allocator (emscripten's `sbrk` in the
 * 4.22 builds) does not check that moving its break stays within 32 bits:
 * near the top it can hand out a block running past 4 GiB (a kernel then
 * traps, or writes over the heap's start). Kept below this limit, the
 * break can move by up to 512 MiB without wrapping.
 */
export const WASM_HEAP_LIMIT = 3.5 * 2 ** 30;

/**
 * Bytes of tensors kept in the heap before the least recently used are
 * spilled, leaving the rest of {@link WASM_HEAP_LIMIT} for XNNPACK's own
 * allocations and the allocator's fragmentation.
 */
export const DEFAULT_HEAP_BUDGET = 3 * 2 ** 30;

/** What the allocator may add to a request when it moves its break. */
const BREAK_SLACK = 2 ** 20;

/** Smaller tensors are never spilled: little to gain, many to copy. */
const MIN_SPILL_BYTES = 65536;

/** A tensor's entry in tfjs-wasm's table (its `TensorData`). */
interface TensorData {
  id: number;
  memoryOffset: number | null;
  shape: number[];
  dtype: tf.DataType;
  refCount: number;
}

/** What this module knows of a tensor of the table. */
interface Entry {
  data: TensorData;
  bytes: number;
  /** Clock time of the last access. */
  lastUse: number;
  /** The bytes, while the tensor is spilled. */
  copy?: Uint8Array;
}

/**
 * What {@link heapSpillStats} reports.
 */
export interface HeapSpillStats {
  /** Bytes of tensors kept in the heap before spilling. */
  budget: number;
  /** Bytes of tensors in the heap now. */
  residentBytes: number;
  /** Bytes of tensors spilled now. */
  spilledBytes: number;
  /** Bytes of JavaScript memory holding spilled tensors, or kept for reuse. */
  bufferBytes: number;
  /** Tensors spilled so far. */
  spills: number;
  /** Spilled tensors brought back so far. */
  restores: number;
}

/**
 * The engine's kernel clock: ticks when an outermost kernel starts. What
 * was touched at or after `pinned` (the tick of the outermost kernel
 * running, or of the last one) stays in the heap.
 */
const clock = { now: 0, pinned: 0, depth: 0 };

/** Every backend with spilling installed (in practice, one). */
const spills = new Map<BackendWasm, HeapSpill>();

/** Kernels after the last spill when idle spill buffers are let go. */
const IDLE_BUFFER_KERNELS = 2000;

/**
 * Spill copies, kept for reuse once their tensor is back or freed. A fresh
 * buffer costs a page fault per 4 KiB page on first write, and the same
 * sizes recur every training step, so spilling reuses the buffers of the
 * step before; what is kept
 * never exceeds the most ever spilled at once, and is let go once nothing
 * has been spilled for {@link IDLE_BUFFER_KERNELS} kernels.
 */
class SpillBuffers {
  readonly #idle = new Map<number, Uint8Array[]>();
  /** Bytes of every buffer kept, in use or idle. */
  bytes = 0;

  /** Lets every idle buffer go. */
  clear(): void {
    for (const list of this.#idle.values()) {
      for (const buffer of list) this.bytes -= buffer.length;
    }
    this.#idle.clear();
  }

  /** A buffer of exactly `bytes`, reused if one is idle. */
  take(bytes: number): Uint8Array {
    const idle = this.#idle.get(bytes)?.pop();
    if (idle !== undefined) return idle;
    this.bytes += bytes;
    return new Uint8Array(bytes);
  }

  /** Keeps `buffer` for the next spill of its size. */
  put(buffer: Uint8Array): void {
    const list = this.#idle.get(buffer.length);
    if (list === undefined) this.#idle.set(buffer.length, [buffer]);
    else list.push(buffer);
  }
}

/** The spilling state of one backend. */
class HeapSpill {
  budget = DEFAULT_HEAP_BUDGET;
  residentBytes = 0;
  spilledBytes = 0;
  spills = 0;
  restores = 0;
  readonly #backend: BackendWasm;
  readonly #entries = new Map<object, Entry>();
  readonly #buffers = new SpillBuffers();
  /** Clock time of the last spill. */
  #lastSpill = 0;
  readonly #malloc: (bytes: number) => number;
  readonly #free: (at: number) => void;
  readonly #get: (dataId: object) => TensorData | undefined;

  constructor(backend: BackendWasm) {
    this.#backend = backend;
    const wasm = backend.wasm as unknown as {
      _malloc: (bytes: number) => number;
      _free: (at: number) => void;
    };
    // emscripten binds `_malloc` lazily on its first call (and then
    // replaces the property): bind it before wrapping it.
    wasm._free(wasm._malloc(8));
    this.#malloc = wasm._malloc;
    this.#free = wasm._free;
    wasm._malloc = (bytes) => this.allocate(bytes);
    // emscripten grows the heap with `wasmMemory.grow` and takes a throw
    // as "cannot grow": malloc then answers 0, and allocate() spills.
    const memory = backendMemory(backend);
    const grow = memory.grow.bind(memory);
    Object.defineProperty(memory, "grow", {
      configurable: true,
      value: (pages: number) => {
        if (memory.buffer.byteLength + pages * 65536 > WASM_HEAP_LIMIT) {
          throw new RangeError("the WASM heap is at its limit");
        }
        return grow(pages);
      },
    });
    const table = backend.dataIdMap as unknown as {
      get(dataId: object): TensorData | undefined;
      set(dataId: object, data: TensorData): void;
      delete(dataId: object): boolean;
    };
    const get = table.get.bind(table), set = table.set.bind(table);
    const del = table.delete.bind(table);
    this.#get = get;
    table.get = (dataId) => {
      this.touch(dataId);
      return get(dataId);
    };
    table.set = (dataId, data) => {
      set(dataId, data);
      this.#track(dataId, data);
    };
    table.delete = (dataId) => {
      this.#untrack(dataId);
      return del(dataId);
    };
    this.#wrapBackendMethods();
  }

  /** Methods that read the table without needing the data, or read the heap first. */
  #wrapBackendMethods(): void {
    const backend = this.#backend;
    const dispose = backend.disposeData.bind(backend);
    const fromHeap = backend.typedArrayFromHeap.bind(backend);
    backend.disposeData = (dataId: object, force = false) => {
      const entry = this.#entries.get(dataId);
      if (entry?.copy === undefined) return dispose(dataId, force);
      // Spilled: nothing to free in the heap.
      entry.data.refCount--;
      if (!force && entry.data.refCount > 0) return false;
      backend.dataIdMap.delete(dataId);
      return true;
    };
    backend.refCount = (dataId: object) => this.#get(dataId)?.refCount ?? 0;
    backend.incRef = (dataId: object) => {
      const data = this.#get(dataId);
      if (data !== undefined) data.refCount++;
    };
    // The stock method takes the heap's buffer before it looks the tensor
    // up: bring it back first, or the buffer may be one the heap outgrew.
    backend.typedArrayFromHeap = (info: tf.TensorInfo) => {
      this.touch(info.dataId);
      return fromHeap(info);
    };
  }

  #track(dataId: object, data: TensorData): void {
    this.#untrack(dataId);
    if (data.memoryOffset === null || data.dtype === "string") return;
    const bytes = tf.util.sizeFromShape(data.shape) *
      tf.util.bytesPerElement(data.dtype);
    this.#entries.set(dataId, { data, bytes, lastUse: clock.now });
    this.residentBytes += bytes;
  }

  #untrack(dataId: object): void {
    const entry = this.#entries.get(dataId);
    if (entry === undefined) return;
    this.#entries.delete(dataId);
    if (entry.copy === undefined) this.residentBytes -= entry.bytes;
    else {
      this.spilledBytes -= entry.bytes;
      this.#buffers.put(entry.copy);
    }
  }

  /** Bytes of JavaScript memory in spill buffers. */
  get bufferBytes(): number {
    return this.#buffers.bytes;
  }

  /** Called as an outermost kernel starts: lets idle spill buffers go in time. */
  tick(): void {
    if (clock.now - this.#lastSpill === IDLE_BUFFER_KERNELS) {
      this.#buffers.clear();
    }
  }

  /** Marks a tensor used now, bringing it back if it was spilled. */
  touch(dataId: object): void {
    const entry = this.#entries.get(dataId);
    if (entry === undefined) return;
    if (entry.copy !== undefined) this.#restore(entry);
    entry.lastUse = clock.now;
  }

  /** `_malloc` that spills first when the budget or the heap is exceeded. */
  allocate(bytes: number): number {
    const heap = backendMemory(this.#backend).buffer.byteLength;
    if (heap + bytes + BREAK_SLACK > 2 ** 32) {
      // The allocator's break could wrap past 4 GiB (see WASM_HEAP_LIMIT).
      throw new Error(
        `The WASM backend cannot allocate ${
          mib(bytes)
        } in one block (its heap stops at 4 GiB); use a smaller batch size.`,
      );
    }
    while (this.residentBytes + bytes > this.budget && this.#spillOne()) {
      // Spilled one; check again.
    }
    for (;;) {
      // `>>> 0`: emscripten's `_malloc` answers a signed 32-bit number,
      // negative for addresses past 2 GiB.
      const at = this.#malloc(bytes) >>> 0;
      if (at !== 0) return at;
      if (!this.#spillOne()) {
        throw new Error(
          `The WASM backend is out of memory: ${
            mib(bytes)
          } more do not fit in its heap (at most ${
            mib(WASM_HEAP_LIMIT)
          }) next to the ${
            mib(this.residentBytes)
          } of tensors the current operation is using; use a smaller batch size.`,
        );
      }
    }
  }

  /** Spills the least recently used tensor that may move; false if none. */
  #spillOne(): boolean {
    let victim: Entry | undefined;
    for (const entry of this.#entries.values()) {
      if (
        entry.copy === undefined && entry.bytes >= MIN_SPILL_BYTES &&
        entry.lastUse < clock.pinned &&
        (victim === undefined || entry.lastUse < victim.lastUse ||
          (entry.lastUse === victim.lastUse && entry.bytes > victim.bytes))
      ) {
        victim = entry;
      }
    }
    if (victim === undefined) return false;
    this.#spill(victim);
    return true;
  }

  #spill(entry: Entry): void {
    const { data, bytes } = entry;
    const at = data.memoryOffset!;
    entry.copy = this.#buffers.take(bytes);
    entry.copy.set(
      new Uint8Array(backendMemory(this.#backend).buffer, at, bytes),
    );
    this.#free(at);
    // The backend's C++ side forgets the tensor (and what it cached for it).
    this.#backend.wasm.tfjs.disposeData(data.id);
    data.memoryOffset = null;
    this.residentBytes -= bytes;
    this.spilledBytes += bytes;
    this.spills++;
    this.#lastSpill = clock.now;
  }

  #restore(entry: Entry): void {
    const { data, bytes } = entry;
    const at = this.allocate(bytes);
    new Uint8Array(backendMemory(this.#backend).buffer, at, bytes)
      .set(entry.copy!);
    this.#buffers.put(entry.copy!);
    entry.copy = undefined;
    data.memoryOffset = at;
    this.#backend.wasm.tfjs.registerTensor(
      data.id,
      tf.util.sizeFromShape(data.shape),
      at,
    );
    this.spilledBytes -= bytes;
    this.residentBytes += bytes;
    this.restores++;
  }
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

let engineWrapped = false;

/**
 * Makes every kernel the engine runs tick the clock (when it is the
 * outermost one) and bring its inputs back into the heap before it starts.
 */
function wrapEngine(): void {
  if (engineWrapped) return;
  engineWrapped = true;
  type KernelParams = {
    kernelName?: string;
    inputs?: Record<string, tf.TensorInfo | undefined>;
  };
  const engine = tf.engine() as unknown as {
    runKernelFunc(params: KernelParams): unknown;
  };
  const run = engine.runKernelFunc.bind(engine);
  engine.runKernelFunc = (params: KernelParams) => {
    if (params.kernelName === undefined) return run(params); // customGrad
    if (clock.depth === 0) {
      clock.pinned = ++clock.now;
      for (const spill of spills.values()) spill.tick();
      for (const input of Object.values(params.inputs ?? {})) {
        if (input === undefined || input === null) continue;
        for (const spill of spills.values()) spill.touch(input.dataId);
      }
    }
    clock.depth++;
    try {
      return run(params);
    } finally {
      clock.depth--;
    }
  };
}

/**
 * Lets `backend` spill tensors out of its heap when they exceed the budget
 * (see the module notes). Idempotent; {@link initWasmBackend} calls it.
 */
export function installHeapSpill(backend: BackendWasm): void {
  if (spills.has(backend)) return;
  wrapEngine();
  spills.set(backend, new HeapSpill(backend));
}

function spillOf(backend: BackendWasm): HeapSpill {
  const spill = spills.get(backend);
  if (spill === undefined) {
    throw new Error("installHeapSpill(backend) has not been called");
  }
  return spill;
}

/**
 * Sets how many bytes of tensors `backend` keeps in its heap before it
 * spills the least recently used (default {@link DEFAULT_HEAP_BUDGET}).
 * Tests set a small budget to make spilling happen.
 *
 * @throws {Error} when spilling is not installed on `backend`, or `bytes` is not positive.
 */
export function setHeapBudget(
  backend: BackendWasm,
  bytes = DEFAULT_HEAP_BUDGET,
): void {
  if (!(bytes > 0)) {
    throw new Error(`the heap budget must be positive, got ${bytes}`);
  }
  spillOf(backend).budget = bytes;
}

/**
 * How much of `backend`'s tensors is in its heap and how much spilled, and
 * how often tensors were spilled and brought back.
 *
 * @throws {Error} when spilling is not installed on `backend`.
 */
export function heapSpillStats(backend: BackendWasm): HeapSpillStats {
  const s = spillOf(backend);
  return {
    budget: s.budget,
    residentBytes: s.residentBytes,
    spilledBytes: s.spilledBytes,
    bufferBytes: s.bufferBytes,
    spills: s.spills,
    restores: s.restores,
  };
}
