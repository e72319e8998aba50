/**
 * BatchMatMul and _FusedMatMul for the WASM backend.
 *
 * Products whose sizes fit our WebAssembly product's tiles (rows in 4s,
 * columns in 8s: the dense layers of MiniVGGNet and their gradients, in
 * training and inference) run on it, on every thread of the kernel pool:
 * it reads a transposed left operand in place, copies the right one only a
 * strip at a time (a depth slice of 8 columns, into L1), and adds the
 * bias and ReLU as it stores; a product with a few columns (up to 64, as
 * the 10-class layer) runs on it with its columns padded to 8. A·Bᵀ (the input
 * gradient dy·Wᵀ) runs as rows of dot products on both operands as they
 * are; with both transposed, B is either copied or the product computed as
 * (Bᵀ·Aᵀ)ᵀ, whichever copies less.
 *
 * Other products go to XNNPACK, without the stock kernel's slow paths:
 *
 * - The stock BatchMatMul uses XNNPACK only when neither operand is
 *   transposed; with a transpose it falls back to scalar loops — and
 *   training's gradients of a dense layer (`dy·Wᵀ`, `xᵀ·dy`)
 *   are exactly those cases.
 * - XNNPACK packs the right-hand operand ("weights") before multiplying.
 *   In training the weights are a new tensor every step, and packing the
 *   dense layer's 3136×512 kernel costs more than the product itself.
 *
 * There, this kernel materialises transposes (cheap copies) and calls the
 * stock XNNPACK path, choosing between `A·B` and `(Bᵀ·Aᵀ)ᵀ` so that the
 * operand XNNPACK must pack is the smaller one. (Our product also beats
 * XNNPACK with its packing cached, as in inference: 11.8 against 13.9 ms
 * for 256 × 3136 · 3136 × 512 on two threads.)
 *
 * @module
 */
import { tf } from "../../tf.ts";
import { pointerOf, runGemm, runGemmNT } from "../simd/mod.ts";
import {
  heapF32,
  type KernelArgs,
  release,
  runKernel,
  runStock,
  type TensorInfo,
} from "./util.ts";

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

/** Relative cost of XNNPACK packing one element vs. transposing one. */
const PACK_COST = 2;

/**
 * act(A'·B' + bias) for one float32 matrix pair (batch 1) on our own
 * WebAssembly products, on every thread of the kernel pool, packing
 * nothing whole: A·Bᵀ on `gemmNT` (dot products of rows, 2 × 4 tiles), the rest
 * on `gemm` (6 × 8 and 4 × 8 tiles), where a transposed A' is read in place and a
 * transposed B' is either copied or the product is computed as
 * Cᵀ = B'ᵀ·A'ᵀ, whichever copies less. Returns null when the sizes fit
 * neither kernel's tiles.
 */
function pooledMatMul(
  backend: KernelArgs["backend"],
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  bias: TensorInfo | undefined,
  relu: boolean,
): TensorInfo | null {
  if (a.dtype !== "float32" || b.dtype !== "float32") return null;
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const M = transposeA ? ac : ar,
    K = transposeA ? ar : ac,
    N = transposeB ? br : bc;
  if (bias !== undefined && (bias.shape.length !== 1 || bias.shape[0] !== N)) {
    return null;
  }
  const outShape = [
    ...(a.shape.length >= b.shape.length ? a.shape : b.shape).slice(0, -2),
    M,
    N,
  ];
  const direct = M % 4 === 0 && N % 8 === 0;
  const flipped = N % 4 === 0 && M % 8 === 0;
  const directCost = transposeB ? K * N : 0;
  const flippedCost = (transposeA ? 0 : M * K) + M * N;
  const temps: TensorInfo[] = [];
  const transposed = (t: TensorInfo, rows: number, cols: number) => {
    const flat = runKernel(backend, "Reshape", { x: t }, {
      shape: [rows, cols],
    });
    const tr = runKernel(backend, "Transpose", { x: flat }, { perm: [1, 0] });
    temps.push(flat, tr);
    return tr;
  };
  /** C (rows × cols) = A·B with A's strides, B row-major. */
  const product = (
    A: TensorInfo,
    ars: number,
    acs: number,
    B: TensorInfo,
    rows: number,
    cols: number,
    depth: number,
    withBias: TensorInfo | undefined,
    withRelu: boolean,
  ) => {
    const c = backend.makeOutput([rows, cols], "float32");
    runGemm(backend, {
      A: pointerOf(backend, A),
      ars,
      acs,
      B: pointerOf(backend, B),
      C: pointerOf(backend, c),
      M: rows,
      N: cols,
      K: depth,
      bias: withBias && pointerOf(backend, withBias),
      relu: withRelu,
    });
    return c;
  };
  let c: TensorInfo;
  if (!transposeA && transposeB && M % 2 === 0 && N % 4 === 0 && K % 4 === 0) {
    // A'·B'ᵀ with both read as they are: rows of dot products.
    c = backend.makeOutput([M, N], "float32");
    runGemmNT(backend, {
      A: pointerOf(backend, a),
      B: pointerOf(backend, b),
      C: pointerOf(backend, c),
      M,
      N,
      K,
      bias: bias && pointerOf(backend, bias),
      relu,
    });
  } else if (direct && (!flipped || directCost <= flippedCost)) {
    const B = transposeB ? transposed(b, br, bc) : b;
    c = product(
      a,
      transposeA ? 1 : K,
      transposeA ? M : 1,
      B,
      M,
      N,
      K,
      bias,
      relu,
    );
  } else if (flipped) {
    // Cᵀ (N × M) = B'ᵀ · A'ᵀ: B'ᵀ is b read with strides, A'ᵀ row-major.
    const At = transposeA ? a : transposed(a, ar, ac);
    const ct = product(
      b,
      transposeB ? K : 1,
      transposeB ? 1 : N,
      At,
      N,
      M,
      K,
      undefined,
      false,
    );
    temps.push(ct);
    c = runKernel(backend, "Transpose", { x: ct }, { perm: [1, 0] });
    if (bias !== undefined) {
      const withBias = runKernel(backend, "Add", { a: c, b: bias });
      temps.push(c);
      c = withBias;
    }
    if (relu) {
      const activated = runKernel(backend, "Relu", { x: c });
      temps.push(c);
      c = activated;
    }
  } else if (M % 4 === 0 && N <= MAX_PADDED_COLUMNS) {
    c = paddedProduct(
      backend,
      a,
      b,
      transposeA,
      transposeB,
      M,
      N,
      K,
      bias,
      relu,
    );
  } else {
    return null;
  }
  const out = runKernel(backend, "Reshape", { x: c }, { shape: outShape });
  release(backend, c, ...temps);
  return out;
}

/** Most columns a product may have to run on {@link paddedProduct}. */
const MAX_PADDED_COLUMNS = 64;

/**
 * act(A'·B' + bias) (M × N, M a multiple of 4) on `gemm` with B' and the
 * bias copied into N rounded up to 8 columns, the extra ones zero, and the
 * first N columns of the result copied out: a dense layer with a few
 * outputs (MiniVGGNet's 10 classes, and its weights' gradient), which
 * XNNPACK would run on its thread pool, waking it for tens of microseconds
 * of work. Each output is the sum `gemm` computes without the padding.
 */
function paddedProduct(
  backend: KernelArgs["backend"],
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  M: number,
  N: number,
  K: number,
  bias: TensorInfo | undefined,
  relu: boolean,
): TensorInfo {
  const N8 = Math.ceil(N / 8) * 8;
  // B' (K × N8), then the bias (N8).
  const padded = backend.makeOutput([K * N8 + N8], "float32");
  const wide = backend.makeOutput([M, N8], "float32");
  const c = backend.makeOutput([M, N], "float32");
  const p = heapF32(backend, padded), bs = heapF32(backend, b);
  p.fill(0);
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) {
      p[k * N8 + n] = transposeB ? bs[n * K + k] : bs[k * N + n];
    }
  }
  if (bias !== undefined) p.set(heapF32(backend, bias), K * N8);
  runGemm(backend, {
    A: pointerOf(backend, a),
    ars: transposeA ? 1 : K,
    acs: transposeA ? M : 1,
    B: pointerOf(backend, padded),
    C: pointerOf(backend, wide),
    M,
    N: N8,
    K,
    bias: bias && pointerOf(backend, padded) + 4 * K * N8,
    relu,
  });
  const ws = heapF32(backend, wide), cs = heapF32(backend, c);
  for (let i = 0; i < M; i++) {
    cs.set(ws.subarray(i * N8, i * N8 + N), i * N);
  }
  release(backend, padded, wide);
  return c;
}

/**
 * A·B (or with transposes) for one matrix pair (batch 1), the fastest way
 * as described above. The caller owns the result.
 */
function matMul(
  backend: KernelArgs["backend"],
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): TensorInfo {
  const pooled = pooledMatMul(
    backend,
    a,
    b,
    transposeA,
    transposeB,
    undefined,
    false,
  );
  if (pooled !== null) return pooled;
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const M = transposeA ? ac : ar,
    K = transposeA ? ar : ac,
    N = transposeB ? br : bc;
  const outShape = [
    ...(a.shape.length >= b.shape.length ? a.shape : b.shape).slice(0, -2),
    M,
    N,
  ];

  const temps: TensorInfo[] = [];
  const view2d = (
    t: TensorInfo,
    rows: number,
    cols: number,
    transpose: boolean,
  ) => {
    const flat = runKernel(backend, "Reshape", { x: t }, {
      shape: [rows, cols],
    });
    temps.push(flat);
    if (!transpose) return flat;
    const tr = runKernel(backend, "Transpose", { x: flat }, { perm: [1, 0] });
    temps.push(tr);
    return tr;
  };
  // Option 1: C = A'·B', XNNPACK packs B' (K×N). Option 2: Cᵀ = B'ᵀ·A'ᵀ, packs A'ᵀ (K×M).
  const cost1 = (transposeA ? M * K : 0) + (transposeB ? K * N : 0) +
    PACK_COST * K * N;
  const cost2 = (transposeB ? 0 : K * N) + (transposeA ? 0 : M * K) +
    PACK_COST * K * M + M * N;
  let out: TensorInfo;
  if (cost1 <= cost2) {
    const lhs = view2d(a, ar, ac, transposeA);
    const rhs = view2d(b, br, bc, transposeB);
    const c = runStock(backend, "BatchMatMul", { a: lhs, b: rhs }, {
      transposeA: false,
      transposeB: false,
    });
    temps.push(c);
    out = runKernel(backend, "Reshape", { x: c }, { shape: outShape });
  } else {
    const lhs = view2d(b, br, bc, !transposeB); // B'ᵀ: N×K
    const rhs = view2d(a, ar, ac, !transposeA); // A'ᵀ: K×M
    const ct = runStock(backend, "BatchMatMul", { a: lhs, b: rhs }, {
      transposeA: false,
      transposeB: false,
    });
    temps.push(ct);
    const c = runKernel(backend, "Transpose", { x: ct }, { perm: [1, 0] });
    temps.push(c);
    out = runKernel(backend, "Reshape", { x: c }, { shape: outShape });
  }
  release(backend, ...temps);
  return out;
}

/** True when the stock kernel should run: batched products. */
function useStock(a: TensorInfo, b: TensorInfo): boolean {
  return tf.util.sizeFromShape(a.shape.slice(0, -2)) !== 1 ||
    tf.util.sizeFromShape(b.shape.slice(0, -2)) !== 1;
}

/**
 * The BatchMatMul kernel function: inputs `{ a, b }`, attributes
 * `{ transposeA, transposeB }`.
 */
export function batchMatMul(args: KernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const { transposeA, transposeB } = args.attrs as unknown as MatMulAttrs;
  const a = inputs.a as TensorInfo;
  const b = inputs.b as TensorInfo;
  if (useStock(a, b)) {
    return runStock(backend, "BatchMatMul", args.inputs, args.attrs);
  }
  return matMul(backend, a, b, transposeA, transposeB);
}

/** Activations of _FusedMatMul this kernel applies itself, by kernel name. */
const ACTIVATIONS: Record<string, string | null> = {
  linear: null,
  relu: "Relu",
};

/**
 * The _FusedMatMul kernel function (a dense layer: `act(A·B + bias)`):
 * inputs `{ a, b, bias? }`, attributes `{ transposeA, transposeB,
 * activation }`. The product as {@link batchMatMul} computes it, then the
 * bias and activation kernels; PReLU, other activations and batched
 * products go to the stock kernel.
 */
export function fusedMatMul(args: KernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const { transposeA, transposeB, activation = "linear" } = args
    .attrs as unknown as MatMulAttrs & { activation?: string };
  const a = inputs.a as TensorInfo;
  const b = inputs.b as TensorInfo;
  const bias = inputs.bias as TensorInfo | undefined;
  if (
    inputs.preluActivationWeights != null || !(activation in ACTIVATIONS) ||
    useStock(a, b)
  ) {
    return runStock(backend, "_FusedMatMul", args.inputs, args.attrs);
  }
  const pooled = pooledMatMul(
    backend,
    a,
    b,
    transposeA,
    transposeB,
    bias ?? undefined,
    activation === "relu",
  );
  if (pooled !== null) return pooled;
  let out = matMul(backend, a, b, transposeA, transposeB);
  if (bias != null) {
    const withBias = runKernel(backend, "Add", { a: out, b: bias });
    release(backend, out);
    out = withBias;
  }
  const act = ACTIVATIONS[activation];
  if (act !== null) {
    const activated = runKernel(backend, act, { x: out });
    release(backend, out);
    out = activated;
  }
  return out;
}
