/**
 * A pool of worker threads that run this project's WebAssembly kernels on
 * the tfjs-wasm backend's shared memory, next to the calling thread.
 *
 * A pooled kernel takes a block range `(…args, k0, k1)` as its last two
 * arguments and a per-thread scratch pointer among its arguments. A job
 * publishes the arguments in a shared control block and wakes the workers;
 * the caller and the workers then claim blocks one at a time from a shared
 * counter until none are left, and the caller waits until every claimed
 * block is done. Blocks go to whoever is free, so a worker that is late
 * (still starting, or descheduled) costs nothing but its share.
 *
 * The counter carries the job's generation in its top bits and is closed
 * when the job ends, so a worker that wakes late can never claim a block of
 * a job whose arguments it did not read.
 *
 * Workers are `node:worker_threads` workers started from source (no file
 * to read, no permission needed) and unref'd: an idle pool does not keep a
 * script alive. With plain (unshared) memory, or one thread, there are no
 * workers and the caller runs every block.
 *
 * @module
 */
import workerThreads from "node:worker_threads";

/** Int32 slots of the control block. */
const SEQ = 0, // bumped to publish a job
  FN = 1, // index of the kernel in the pool's name list
  NARGS = 2, // number of arguments before the block range
  COUNT = 3, // blocks in the job
  COUNTER = 4, // (generation << 20) | next block
  FINISHED = 5, // blocks done
  FAILED = 6, // 1 when a worker's kernel threw
  SCRATCH_ARG = 7, // which argument is the scratch pointer
  READY = 8, // workers started
  SPIN = 9, // microseconds a thread polls before it sleeps
  ACTIVE = 10; // threads that take blocks (the caller and slots below it)
/** Microseconds a thread polls for work before it sleeps, by default. */
export const DEFAULT_SPIN_MICROS = 200;

/** Float64 slots: the scratch stride, then the arguments. */
const F64_OFFSET = 64, MAX_ARGS = 30;
const BLOCK_BITS = 20, BLOCK_MASK = (1 << BLOCK_BITS) - 1, GEN_MASK = 0x7ff;

const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { wasmModule, memory, control, slot, names } = workerData;
const kernels = new WebAssembly.Instance(wasmModule, { env: { memory } }).exports;
const c = new Int32Array(control);
const f = new Float64Array(control, ${F64_OFFSET});
Atomics.add(c, ${READY}, 1);
let seen = Atomics.load(c, ${SEQ});
for (;;) {
  const spin = c[${SPIN}];
  if (spin > 0) {
    const until = performance.now() + spin / 1000;
    for (let i = 1; Atomics.load(c, ${SEQ}) === seen; i++) {
      if ((i & 63) === 0 && performance.now() > until) break;
    }
  }
  Atomics.wait(c, ${SEQ}, seen);
  seen = Atomics.load(c, ${SEQ});
  const gen = seen & ${GEN_MASK};
  const fn = kernels[names[c[${FN}]]];
  const count = c[${COUNT}];
  const args = [];
  for (let i = 0; i < c[${NARGS}]; i++) args.push(f[1 + i]);
  args[c[${SCRATCH_ARG}]] += slot * f[0];
  while (slot < c[${ACTIVE}]) {
    const v = Atomics.load(c, ${COUNTER});
    if ((v >>> ${BLOCK_BITS}) !== gen) break;
    const k = v & ${BLOCK_MASK};
    if (k >= count) break;
    if (Atomics.compareExchange(c, ${COUNTER}, v, v + 1) !== v) continue;
    try {
      fn(...args, k, k + 1);
    } catch {
      Atomics.store(c, ${FAILED}, 1);
    }
    // The caller waits for the last block only.
    if (Atomics.add(c, ${FINISHED}, 1) === count - 1) {
      Atomics.notify(c, ${FINISHED});
    }
  }
}
`;

/** Runs pooled kernels on every thread of the pool. */
export class KernelPool {
  /** Threads that compute a job, the caller included. */
  readonly threads: number;
  readonly #kernels: Record<string, unknown>;
  readonly #names: string[];
  readonly #c: Int32Array;
  readonly #f: Float64Array;
  #gen = 0;

  /**
   * Starts `threads − 1` workers (none for plain memory), each with its own
   * instance of `module` on `memory`. `kernels` are the caller's own
   * instance's exports; `names` lists the kernels jobs may run.
   */
  constructor(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    kernels: Record<string, unknown>,
    names: string[],
    threads: number,
  ) {
    const shared = memory.buffer instanceof SharedArrayBuffer;
    this.threads = shared ? Math.max(1, Math.floor(threads)) : 1;
    this.#kernels = kernels;
    this.#names = names;
    const control = new SharedArrayBuffer(F64_OFFSET + 8 * (MAX_ARGS + 1));
    this.#c = new Int32Array(control);
    this.#f = new Float64Array(control, F64_OFFSET);
    this.#c[SPIN] = DEFAULT_SPIN_MICROS;
    this.#c[ACTIVE] = this.threads;
    for (let slot = 1; slot < this.threads; slot++) {
      const worker = new workerThreads.Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { wasmModule: module, memory, control, slot, names },
      });
      worker.unref();
    }
  }

  /**
   * Runs kernel `name` over blocks `[0, count)`: each call gets `args`,
   * then `k, k + 1`. Argument `scratchArg` is a scratch pointer; thread
   * `i` gets it plus `i · scratchStride` bytes, so the scratch must hold
   * {@link threads} strides.
   */
  run(
    name: string,
    args: number[],
    scratchArg: number,
    scratchStride: number,
    count: number,
  ): void {
    const fn = this.#kernels[name] as (...a: number[]) => void;
    if (fn.length !== args.length + 2) {
      throw new Error(
        `${name} takes ${
          fn.length - 2
        } arguments before its block range, got ${args.length}`,
      );
    }
    if (this.threads === 1 || count === 1 || this.#c[ACTIVE] === 1) {
      fn(...args, 0, count);
      return;
    }
    if (args.length > MAX_ARGS) throw new Error("too many kernel arguments");
    if (count > BLOCK_MASK) throw new Error("too many blocks for the pool");
    const c = this.#c, f = this.#f;
    const gen = this.#gen = (this.#gen + 1) & GEN_MASK;
    c[FN] = this.#names.indexOf(name);
    c[NARGS] = args.length;
    c[COUNT] = count;
    c[SCRATCH_ARG] = scratchArg;
    f[0] = scratchStride;
    for (let i = 0; i < args.length; i++) f[1 + i] = args[i];
    Atomics.store(c, FINISHED, 0);
    Atomics.store(c, COUNTER, gen << BLOCK_BITS);
    // The job's sequence number carries the generation in its low bits.
    const seq = (Atomics.load(c, SEQ) & ~GEN_MASK) + GEN_MASK + 1 + gen;
    Atomics.store(c, SEQ, seq);
    Atomics.notify(c, SEQ);
    let failure: unknown;
    for (;;) {
      const v = Atomics.load(c, COUNTER);
      const k = v & BLOCK_MASK;
      if (k >= count) break;
      if (Atomics.compareExchange(c, COUNTER, v, v + 1) !== v) continue;
      try {
        fn(...args, k, k + 1);
      } catch (e) {
        failure ??= e;
      }
      Atomics.add(c, FINISHED, 1);
    }
    const spinUntil = performance.now() + c[SPIN] / 1000;
    for (let done; (done = Atomics.load(c, FINISHED)) < count;) {
      if (performance.now() < spinUntil) continue;
      Atomics.wait(c, FINISHED, done, 50);
    }
    // Close the job: a late worker's claim now fails.
    Atomics.store(c, COUNTER, (gen << BLOCK_BITS) | BLOCK_MASK);
    if (failure !== undefined) throw failure;
    if (Atomics.exchange(c, FAILED, 0) !== 0) {
      throw new Error(`the WebAssembly kernel ${name} failed on a worker`);
    }
  }

  /**
   * Microseconds a thread polls for work (or for the job's end) before it
   * sleeps; 0 sleeps at once.
   */
  get spinMicros(): number {
    return this.#c[SPIN];
  }
  set spinMicros(us: number) {
    Atomics.store(this.#c, SPIN, Math.max(0, Math.round(us)));
  }

  /**
   * Threads that compute a job, 1 … {@link threads} (default all): the
   * others sit jobs out. For measuring how the kernels scale with threads
   * in one process, on the same machine load.
   */
  get activeThreads(): number {
    return this.#c[ACTIVE];
  }
  set activeThreads(n: number) {
    Atomics.store(
      this.#c,
      ACTIVE,
      Math.min(this.threads, Math.max(1, Math.floor(n))),
    );
  }

  /** Workers that have started (for tests). */
  get readyWorkers(): number {
    return Atomics.load(this.#c, READY);
  }
}
