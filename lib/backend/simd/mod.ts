/**
 * This project's WebAssembly kernels (see `kernels.as.ts`), instantiated
 * on the tfjs-wasm backend's own memory so they work on tensors in place.
 * tfjs's threaded build has shared memory, its one-thread build plain
 * memory; each gets the matching variant.
 *
 * @module
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { tfWasm } from "../../tf.ts";
import { KERNELS_PLAIN_WASM, KERNELS_SHARED_WASM } from "./kernels_wasm.ts";
import { KernelPool } from "./pool.ts";

export { KernelPool } from "./pool.ts";

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
  /** Blocks [k0, k1) of Σ (x − shift[c]) and Σ (x − shift[c])², f64 sums per block. */
  momentsAcc(
    x: number,
    rows: number,
    C: number,
    shift: number,
    part: number,
    R: number,
    k0: number,
    k1: number,
  ): void;
  /** y = max(x, 0) over blocks [k0, k1) of R rows, with momentsAcc's sums of y. */
  reluMoments(
    x: number,
    y: number,
    rows: number,
    C: number,
    shift: number,
    part: number,
    R: number,
    k0: number,
    k1: number,
  ): void;
  /** Blocks [k0, k1) of Σ dy and Σ dy · (x − mean[c]), f64 sums per block. */
  bnGradAcc(
    x: number,
    dy: number,
    rows: number,
    C: number,
    mean: number,
    part: number,
    R: number,
    k0: number,
    k1: number,
  ): void;
  /** y = (x − m[c]) · a[c] + b[c], rows [k0·R, k1·R). */
  normalizeRows(
    x: number,
    y: number,
    rows: number,
    C: number,
    m: number,
    a: number,
    b: number,
    R: number,
    k0: number,
    k1: number,
  ): void;
  /** dx = a[c] · dy + b[c] · x + d[c] (times step(x) with `relu`), rows [k0·R, k1·R). */
  bnGradRows(
    x: number,
    dy: number,
    dx: number,
    rows: number,
    C: number,
    a: number,
    b: number,
    d: number,
    relu: number,
    R: number,
    k0: number,
    k1: number,
  ): void;
  /** bnGradRows over blocks [k0, k1) of R rows, with dx's per-channel sums (see source). */
  bnGradSums(
    x: number,
    dy: number,
    dx: number,
    rows: number,
    C: number,
    a: number,
    b: number,
    d: number,
    relu: number,
    part: number,
    R: number,
    k0: number,
    k1: number,
  ): void;
  /** v' = m·v + negLr·g, w' = w + v' over blocks [k0, k1) of B of n floats, rounded as f32 ops. */
  momentumUpdate(
    w: number,
    v: number,
    g: number,
    vOut: number,
    wOut: number,
    m: number,
    negLr: number,
    n: number,
    B: number,
    k0: number,
    k1: number,
  ): void;
  /** One Adam step (and decoupled weight decay) over blocks [k0, k1) of B of n floats (see source). */
  adamUpdate(
    w: number,
    m: number,
    v: number,
    g: number,
    wOut: number,
    mOut: number,
    vOut: number,
    b1: number,
    c1: number,
    b2: number,
    c2: number,
    a1: number,
    a2: number,
    eps: number,
    negLr: number,
    keep: number,
    decay: number,
    n: number,
    B: number,
    k0: number,
    k1: number,
  ): void;
  /** Rows [k0·R, k1·R) of 2×2, stride-2 max pooling tiling x exactly. */
  maxPool2x2(
    x: number,
    y: number,
    bh: number,
    OW: number,
    C: number,
    R: number,
    k0: number,
    k1: number,
  ): void;
  /** Rows [k0·R, k1·R) of the gradient of maxPool2x2. */
  maxPool2x2Grad(
    x: number,
    dy: number,
    dx: number,
    bh: number,
    OW: number,
    C: number,
    R: number,
    k0: number,
    k1: number,
  ): void;
  /** y[r][c] = a[r][c] + b[c], rows [k0·R, k1·R). */
  addChannels(
    a: number,
    b: number,
    y: number,
    rows: number,
    C: number,
    R: number,
    k0: number,
    k1: number,
  ): void;
  /** U = the Winograd F(4×4, 3×3) transform of a [3, 3, C, Co] filter, input channels [k0, k1) (`tmp`: 72 + 36·Co floats). */
  winogradFilter(
    w: number,
    U: number,
    C: number,
    Co: number,
    tmp: number,
    k0: number,
    k1: number,
  ): void;
  /** Blocks [k0, k1) of a 3×3 "same" convolution by Winograd (see source). */
  winogradConv3x3(
    x: number,
    U: number,
    bias: number,
    out: number,
    scratch: number,
    N: number,
    H: number,
    W: number,
    C: number,
    Co: number,
    relu: number,
    T: number,
    K: number,
    k0: number,
    k1: number,
  ): void;
  /** Images [k0, k1) of a 3×3 "same" convolution of one-channel images. */
  conv3x3Single(
    x: number,
    w: number,
    bias: number,
    out: number,
    scratch: number,
    N: number,
    H: number,
    W: number,
    Co: number,
    relu: number,
    k0: number,
    k1: number,
  ): void;
  /** Blocks [k0, k1) of conv3x3Single's filter and bias gradients (see source). */
  conv3x3SingleGrad(
    x: number,
    dy: number,
    part: number,
    scratch: number,
    N: number,
    H: number,
    W: number,
    Co: number,
    G: number,
    k0: number,
    k1: number,
  ): void;
  /** Blocks [k0, k1) of the Winograd filter gradient's partials. */
  winogradFilterGrad(
    x: number,
    dy: number,
    partials: number,
    scratch: number,
    N: number,
    H: number,
    W: number,
    C: number,
    Co: number,
    T: number,
    G: number,
    K: number,
    k0: number,
    k1: number,
  ): void;
  /** Blocks [k0, k1) of C = A·B (+ bias, ReLU), B a strip at a time through `scratch`, K in chunks (see source). */
  gemm(
    A: number,
    ars: number,
    acs: number,
    B: number,
    ldb: number,
    C: number,
    scratch: number,
    M: number,
    N: number,
    K: number,
    bias: number,
    relu: number,
    MB: number,
    NB: number,
    KB: number,
    k0: number,
    k1: number,
  ): void;
  /** Blocks [k0, k1) of C = A·Bᵀ (+ bias, ReLU), rows of both contiguous (see source). */
  gemmNT(
    A: number,
    B: number,
    C: number,
    M: number,
    N: number,
    K: number,
    bias: number,
    relu: number,
    NB: number,
    k0: number,
    k1: number,
  ): void;
  /** y = max(x, 0) for elements [k0·B, min(n, k1·B)). */
  relu(
    x: number,
    y: number,
    n: number,
    B: number,
    k0: number,
    k1: number,
  ): void;
  /** dx = dy · step(x) for elements [k0·B, min(n, k1·B)). */
  reluGrad(
    dy: number,
    x: number,
    dx: number,
    n: number,
    B: number,
    k0: number,
    k1: number,
  ): void;
  /** z = x · y for elements [k0·B, min(n, k1·B)). */
  multiply(
    x: number,
    y: number,
    z: number,
    n: number,
    B: number,
    k0: number,
    k1: number,
  ): void;
  /** Elements [k0·B, min(n, k1·B)) of a dropout mask (see source). */
  dropoutMask(
    out: number,
    state: number,
    keep: number,
    scale: number,
    n: number,
    B: number,
    k0: number,
    k1: number,
  ): void;
  /** out [KH, KW, Co, Ci] = w [KH, KW, Ci, Co] rotated 180°, channels swapped. */
  flipSwapFilter(
    w: number,
    out: number,
    KH: number,
    KW: number,
    Ci: number,
    Co: number,
  ): void;
  /** Ranges [k0, k1) of 256 filter positions of dW from the partials of winogradFilterGrad, summed in block order (`tmp`: 36·256 + 72 floats). */
  winogradFilterGradSum(
    partials: number,
    blocks: number,
    dW: number,
    C: number,
    Co: number,
    tmp: number,
    k0: number,
    k1: number,
  ): void;
}

/** The kernels a {@link KernelPool} may run on several threads. */
const POOLED = [
  "winogradFilter",
  "winogradConv3x3",
  "conv3x3Single",
  "conv3x3SingleGrad",
  "winogradFilterGrad",
  "winogradFilterGradSum",
  "gemm",
  "gemmNT",
  "normalizeRows",
  "bnGradRows",
  "bnGradSums",
  "momentsAcc",
  "reluMoments",
  "bnGradAcc",
  "relu",
  "reluGrad",
  "multiply",
  "dropoutMask",
  "maxPool2x2",
  "maxPool2x2Grad",
  "addChannels",
  "momentumUpdate",
  "adamUpdate",
];

/**
 * Rows and columns of the output blocks the pool's threads share (128
 * columns rather than 64: the dense layer's products 5–10 % faster at
 * batch 32, 2–5 % at 128, steps alternating in one process on an AMD EPYC).
 */
const GEMM_BLOCK_ROWS = 64, GEMM_BLOCK_COLS = 128;

/** What both products take besides their operands: C (M × N) = A·B of depth K. */
interface ProductArgs {
  /** C (M × N), row-major. */
  C: number;
  M: number;
  N: number;
  K: number;
  /** N floats, or 0 for none. */
  bias?: number;
  relu?: boolean;
}

/** The operands of {@link runGemm}: byte offsets and sizes, as `gemm`'s. */
export interface GemmArgs extends ProductArgs {
  /** A[i][k] at A + (i·ars + k·acs)·4. */
  A: number;
  ars: number;
  acs: number;
  /** B row-major, rows N floats apart. */
  B: number;
  /** Chunks the depth K is cut into (partial products, one C after the other), default 1. */
  chunks?: number;
}

/** Scratch bytes `gemm` needs per thread (its GEMM_SCRATCH_BYTES). */
const GEMM_SCRATCH_BYTES = 256 * 32;

/**
 * Runs `gemm` (C = A·B, M a multiple of 4, N of 8) on every thread of the
 * pool, in output blocks of up to 64 × 128 and `chunks` depth chunks.
 */
export function runGemm(backend: BackendWasm, g: GemmArgs): void {
  const chunks = g.chunks ?? 1;
  const MB = Math.min(GEMM_BLOCK_ROWS, g.M);
  const NB = Math.min(GEMM_BLOCK_COLS, g.N);
  const KB = Math.ceil(g.K / chunks);
  const pool = simdPool(backend);
  const scratch = backend.makeOutput(
    [(pool.threads * GEMM_SCRATCH_BYTES) / 4],
    "float32",
  );
  try {
    runGemmWith(pool, g, pointerOf(backend, scratch), chunks, MB, NB, KB);
  } finally {
    backend.disposeData(scratch.dataId);
  }
}

function runGemmWith(
  pool: KernelPool,
  g: GemmArgs,
  scratch: number,
  chunks: number,
  MB: number,
  NB: number,
  KB: number,
): void {
  pool.run(
    "gemm",
    [
      g.A,
      g.ars,
      g.acs,
      g.B,
      g.N,
      g.C,
      scratch,
      g.M,
      g.N,
      g.K,
      g.bias ?? 0,
      g.relu ? 1 : 0,
      MB,
      NB,
      KB,
    ],
    6,
    GEMM_SCRATCH_BYTES,
    // Every chunk is written, even one left empty by the rounding (zeros).
    chunks * Math.ceil(g.M / MB) * Math.ceil(g.N / NB),
  );
}

/** The operands of {@link runGemmNT}: byte offsets and sizes, as `gemmNT`'s. */
export interface GemmNTArgs extends ProductArgs {
  /** A (M × K), row-major. */
  A: number;
  /** B (N × K), row-major. */
  B: number;
}

/**
 * Runs `gemmNT` (C = A·Bᵀ with A and B row-major; M a multiple of 2, N and K
 * of 4) on every thread of the pool, in strips of 128 rows of B.
 */
export function runGemmNT(backend: BackendWasm, g: GemmNTArgs): void {
  const NB = Math.min(GEMM_BLOCK_COLS, g.N);
  simdPool(backend).run(
    "gemmNT",
    [g.A, g.B, g.C, g.M, g.N, g.K, g.bias ?? 0, g.relu ? 1 : 0, NB],
    0,
    0,
    Math.ceil(g.N / NB),
  );
}

/** Rows of a block of {@link runChannelSums}: 64 KiB, in whole 64s. */
function sumBlockRows(C: number): number {
  return Math.max(64, Math.floor(16384 / C / 64) * 64);
}

/**
 * Floats of work space {@link runChannelSums} needs for a rows × C tensor:
 * two f64 sums per channel per block, and two floats of slack so that they
 * can start at the 8-byte boundary {@link channelSumsAt} finds.
 */
export function channelSumsFloats(rows: number, C: number): number {
  return Math.ceil(rows / sumBlockRows(C)) * 4 * C + 2;
}

/**
 * Where {@link runChannelSums}'s sums start in work space that begins at
 * byte offset `at`: the first 8-byte boundary (offsets run up to 4 GiB).
 */
export function channelSumsAt(at: number): number {
  // Arithmetic, not `& ~7`: bitwise operators work on signed 32-bit
  // integers and would turn an offset past 2 GiB negative.
  return Math.ceil(at / 8) * 8;
}

/**
 * Runs a per-channel sums kernel (`momentsAcc`, `reluMoments`, `bnGradAcc`,
 * `bnGradSums`: `args` are its arguments before `part`) over a rows × C
 * tensor on every thread of the pool, with `part` (see
 * {@link channelSumsFloats} and {@link channelSumsAt}) as work space, and
 * adds each channel's
 * two sums into `acc` (2C doubles) block after block, in order: the result
 * does not depend on the thread count.
 */
export function runChannelSums(
  backend: BackendWasm,
  name: "momentsAcc" | "reluMoments" | "bnGradAcc" | "bnGradSums",
  args: number[],
  rows: number,
  C: number,
  part: number,
  acc: Float64Array,
): void {
  const R = sumBlockRows(C);
  const blocks = Math.ceil(rows / R);
  simdPool(backend).run(name, [...args, part, R], 0, 0, blocks);
  const sums = new Float64Array(
    backendMemory(backend).buffer,
    part,
    blocks * 2 * C,
  );
  for (let b = 0; b < blocks; b++) {
    for (let j = 0; j < 2 * C; j++) acc[j] += sums[b * 2 * C + j];
  }
}

/**
 * Runs an elementwise kernel (last arguments `n, B, k0, k1`) over `n`
 * floats in blocks of 64 KiB on every thread of the pool.
 */
export function runElementwise(
  backend: BackendWasm,
  name:
    | "relu"
    | "reluGrad"
    | "multiply"
    | "dropoutMask"
    | "momentumUpdate"
    | "adamUpdate",
  args: number[],
  n: number,
): void {
  const B = 16384;
  simdPool(backend).run(name, [...args, n, B], 0, 0, Math.ceil(n / B));
}

/**
 * Runs a row-wise kernel (last arguments `R, k0, k1`) over `rows` rows of
 * `rowFloats` floats each, in blocks of about 64 KiB, on every thread of
 * the pool.
 */
export function runRows(
  backend: BackendWasm,
  name:
    | "normalizeRows"
    | "bnGradRows"
    | "addChannels"
    | "maxPool2x2"
    | "maxPool2x2Grad",
  args: number[],
  rows: number,
  rowFloats: number,
): void {
  const R = Math.max(1, Math.floor(16384 / rowFloats));
  simdPool(backend).run(name, [...args, R], 0, 0, Math.ceil(rows / R));
}

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const s = atob(base64);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
}

/**
 * The backend's WebAssembly memory (its heap: shared in the threaded
 * build). Take `.buffer` afresh after anything that may grow it.
 *
 * @throws {Error} when the backend does not expose its memory.
 */
export function backendMemory(backend: BackendWasm): WebAssembly.Memory {
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

interface Instance {
  kernels: SimdKernels;
  pool?: KernelPool;
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
}

const instances = new WeakMap<WebAssembly.Memory, Instance>();

function instanceFor(backend: BackendWasm): Instance {
  const memory = backendMemory(backend);
  let instance = instances.get(memory);
  if (instance === undefined) {
    const shared = memory.buffer instanceof SharedArrayBuffer;
    const module = new WebAssembly.Module(
      decode(shared ? KERNELS_SHARED_WASM : KERNELS_PLAIN_WASM),
    );
    const kernels = new WebAssembly.Instance(module, { env: { memory } })
      .exports as unknown as SimdKernels;
    instance = { kernels, module, memory };
    instances.set(memory, instance);
  }
  return instance;
}

/** The kernels, instantiated once per backend memory. */
export function simdKernels(backend: BackendWasm): SimdKernels {
  return instanceFor(backend).kernels;
}

/**
 * The pool that runs the kernels on as many threads as the backend
 * computes with (tfjs-wasm's thread count), started on first use.
 */
export function simdPool(backend: BackendWasm): KernelPool {
  const instance = instanceFor(backend);
  instance.pool ??= new KernelPool(
    instance.module,
    instance.memory,
    instance.kernels as unknown as Record<string, unknown>,
    POOLED,
    tfWasm.getThreadsCount(),
  );
  return instance.pool;
}

/** Byte offset of a tensor's data in the backend's memory. */
export function pointerOf(
  backend: BackendWasm,
  info: { dataId: object },
): number {
  return backend.dataIdMap.get(info.dataId)!.memoryOffset;
}
