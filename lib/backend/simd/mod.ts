/**
 * This project's WebAssembly kernels (see `kernels.as.ts`), instantiated
 * on the tfjs-wasm backend's own memory so they work on tensors in place.
 * tfjs's threaded build has shared memory, its one-thread build plain
 * memory; each gets the matching variant.
 *
 * @module
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { KERNELS_PLAIN_WASM, KERNELS_SHARED_WASM } from "./kernels_wasm.ts";

/** The exported kernels; pointers are byte offsets in the backend's memory. */
export interface SimdKernels {
  /** dst (cols×rows) = transpose of src (rows×cols), float32. */
  transpose2d(src: number, dst: number, rows: number, cols: number): void;
  /** The transposed patch matrix of a channel-major input (see source). */
  im2colT(
    xT: number,
    out: number,
    N: number,
    H: number,
    W: number,
    Ci: number,
    OH: number,
    OW: number,
    KH: number,
    KW: number,
    sh: number,
    sw: number,
    pt: number,
    pl: number,
  ): void;
  /** acc[c] += Σ (x − shift[c]); acc[C + c] += Σ (x − shift[c])², f64 acc. */
  momentsAcc(
    x: number,
    rows: number,
    C: number,
    shift: number,
    acc: number,
  ): void;
  /** acc[c] += Σ dy; acc[C + c] += Σ dy · (x − mean[c]), f64 acc. */
  bnGradAcc(
    x: number,
    dy: number,
    rows: number,
    C: number,
    mean: number,
    acc: number,
  ): void;
  /** y = (x − m[c]) · a[c] + b[c]. */
  normalizeRows(
    x: number,
    y: number,
    rows: number,
    C: number,
    m: number,
    a: number,
    b: number,
  ): void;
  /** dx = a[c] · dy + b[c] · x + d[c]. */
  bnGradRows(
    x: number,
    dy: number,
    dx: number,
    rows: number,
    C: number,
    a: number,
    b: number,
    d: number,
  ): void;
  /** v' = m·v + negLr·g, w' = w + v' over n floats, rounded as f32 ops. */
  momentumUpdate(
    w: number,
    v: number,
    g: number,
    vOut: number,
    wOut: number,
    n: number,
    m: number,
    negLr: number,
  ): void;
  /** Gradient of 2×2/2 max pooling that tiles x exactly (see source). */
  maxPool2x2Grad(
    x: number,
    dy: number,
    dx: number,
    bh: number,
    OW: number,
    C: number,
  ): void;
}

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const s = atob(base64);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
}

/** The backend's WebAssembly memory. */
function memoryOf(backend: BackendWasm): WebAssembly.Memory {
  const module = backend.wasm as unknown as {
    wasmMemory?: WebAssembly.Memory;
    asm?: { memory?: WebAssembly.Memory };
  };
  const memory = module.wasmMemory ?? module.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) {
    throw new Error("the tfjs-wasm backend does not expose its memory");
  }
  return memory;
}

const instances = new WeakMap<WebAssembly.Memory, SimdKernels>();

/**
 * The kernels, instantiated once per backend memory.
 *
 * @example
 * ```ts
 * const k = simdKernels(tf.backend() as BackendWasm);
 * ```
 */
export function simdKernels(backend: BackendWasm): SimdKernels {
  const memory = memoryOf(backend);
  let kernels = instances.get(memory);
  if (kernels === undefined) {
    const shared = memory.buffer instanceof SharedArrayBuffer;
    const module = new WebAssembly.Module(
      decode(shared ? KERNELS_SHARED_WASM : KERNELS_PLAIN_WASM),
    );
    kernels = new WebAssembly.Instance(module, { env: { memory } })
      .exports as unknown as SimdKernels;
    instances.set(memory, kernels);
  }
  return kernels;
}

/**
 * Byte offset of a tensor's data in the backend's memory.
 *
 * @example
 * ```ts
 * const p = pointerOf(backend, x);
 * ```
 */
export function pointerOf(
  backend: BackendWasm,
  info: { dataId: object },
): number {
  return backend.dataIdMap.get(info.dataId)!.memoryOffset;
}
