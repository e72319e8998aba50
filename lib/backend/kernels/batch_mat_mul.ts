/**
 * BatchMatMul for the WASM backend, without its slow path. The stock kernel
 * uses XNNPACK only when neither operand is transposed; with a transpose it
 * falls back to scalar loops ~10–20× slower — and training's gradients of a
 * dense layer (`dy·Wᵀ`, `xᵀ·dy`) are exactly those cases. This kernel
 * materialises the transposes (cheap copies) and calls the stock XNNPACK path,
 * choosing between `A·B` and `(Bᵀ·Aᵀ)ᵀ` so that the operand XNNPACK must pack
 * (its "weights", re-packed whenever the tensor is new) is the smaller one.
 *
 * Untransposed products go to the stock kernel unchanged, which keeps its
 * cached, pre-packed weights for inference.
 *
 * @module
 */
import {
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

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * The kernel function: inputs `{ a, b }`, attributes `{ transposeA, transposeB }`.
 *
 * @example
 * ```ts
 * tf.registerKernel({ kernelName: "BatchMatMul", backendName: "wasm", kernelFunc: batchMatMul });
 * ```
 */
export function batchMatMul(args: KernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const { transposeA, transposeB } = args.attrs as unknown as MatMulAttrs;
  const a = inputs.a as TensorInfo;
  const b = inputs.b as TensorInfo;
  const batchA = size(a.shape.slice(0, -2));
  const batchB = size(b.shape.slice(0, -2));
  if ((!transposeA && !transposeB) || batchA !== 1 || batchB !== 1) {
    return runStock(backend, "BatchMatMul", args.inputs, args.attrs);
  }
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
