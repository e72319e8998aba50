/**
 * `Transpose` for the WASM backend, cache-friendly. The stock kernel walks
 * the output in order and reads the input at large strides, which is slow
 * for the 4-D activations the convolution gradients transpose. This
 * kernel first
 * drops axes of size 1 and merges axes that stay neighbours, then either
 * copies contiguous runs (the innermost axis stays innermost) or transposes
 * 2-D tiles (it moves), so both sides are read and written in short
 * contiguous runs. 4-byte dtypes are moved as raw bits; others go to the
 * stock kernel.
 *
 * @module
 */
import {
  type KernelArgs,
  runKernel,
  runStock,
  type TensorInfo,
} from "./util.ts";

/** Side of the square tiles the 2-D case moves at a time. */
const TILE = 16;

/**
 * The shape and permutation left after dropping axes of size 1 and merging
 * input axes that stay adjacent and in order in the output.
 */
export function simplifyPermutation(
  shape: number[],
  perm: number[],
): { shape: number[]; perm: number[] } {
  const kept = shape.map((d, i) => (d === 1 ? -1 : i)).filter((i) => i >= 0);
  const rank = new Map(kept.map((axis, i) => [axis, i]));
  const p0 = perm.filter((a) => rank.has(a)).map((a) => rank.get(a)!);
  const s0 = kept.map((a) => shape[a]);
  // Merge runs a, a+1, … that appear consecutively in the output.
  const groups: number[][] = [];
  for (const a of p0) {
    const last = groups[groups.length - 1];
    if (last !== undefined && last[last.length - 1] + 1 === a) last.push(a);
    else groups.push([a]);
  }
  const order = groups.map((g) => g[0]).sort((a, b) => a - b);
  const newShape = order.map((first) =>
    groups.find((g) => g[0] === first)!.reduce((n, a) => n * s0[a], 1)
  );
  const newPerm = groups.map((g) => order.indexOf(g[0]));
  return { shape: newShape, perm: newPerm };
}

/** Row-major strides of `shape`. */
function stridesOf(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/**
 * Moves `x` (shape `shape`) into `out` transposed by `perm`, for a
 * simplified permutation of rank ≥ 2 that is not the identity.
 */
export function transposeInto(
  x: Int32Array,
  out: Int32Array,
  shape: number[],
  perm: number[],
): void {
  const r = shape.length;
  const inStride = stridesOf(shape);
  const outShape = perm.map((a) => shape[a]);
  const outStrideOfOut = stridesOf(outShape);
  const outStride = new Array<number>(r); // per input axis
  perm.forEach((a, i) => (outStride[a] = outStrideOfOut[i]));

  const inner = perm[r - 1]; // the input axis that ends up innermost
  const moved = inner !== r - 1;
  // The outer loops run over every axis but the one or two the block covers.
  const outer = [...perm.keys()]
    .map((i) => perm[i])
    .filter((a) => a !== inner && a !== r - 1);
  const sizes = outer.map((a) => shape[a]);
  const inSteps = outer.map((a) => inStride[a]);
  const outSteps = outer.map((a) => outStride[a]);
  const idx = new Array<number>(outer.length).fill(0);
  const count = sizes.reduce((n, d) => n * d, 1);

  const A = shape[inner], B = shape[r - 1];
  const aIn = inStride[inner], bOut = outStride[r - 1];
  let inBase = 0, outBase = 0;
  for (let k = 0; k < count; k++) {
    if (!moved) {
      out.set(x.subarray(inBase, inBase + B), outBase);
    } else {
      // out[outBase + b·bOut + a] = x[inBase + a·aIn + b]
      for (let a0 = 0; a0 < A; a0 += TILE) {
        const a1 = Math.min(A, a0 + TILE);
        for (let b0 = 0; b0 < B; b0 += TILE) {
          const b1 = Math.min(B, b0 + TILE);
          for (let b = b0; b < b1; b++) {
            const o = outBase + b * bOut, i = inBase + b;
            for (let a = a0; a < a1; a++) out[o + a] = x[i + a * aIn];
          }
        }
      }
    }
    // Odometer over the outer axes, innermost last.
    for (let j = outer.length - 1; j >= 0; j--) {
      inBase += inSteps[j];
      outBase += outSteps[j];
      if (++idx[j] < sizes[j]) break;
      inBase -= inSteps[j] * sizes[j];
      outBase -= outSteps[j] * sizes[j];
      idx[j] = 0;
    }
  }
}

function heapI32(
  backend: KernelArgs["backend"],
  info: TensorInfo,
): Int32Array {
  const view = backend.typedArrayFromHeap(info);
  return new Int32Array(view.buffer, view.byteOffset, view.length);
}

/** The kernel function: input `{ x }`, attribute `{ perm }`. */
export function transpose(args: KernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const x = inputs.x as TensorInfo;
  const { perm } = args.attrs as unknown as { perm: number[] };
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    return runStock(backend, "Transpose", inputs, args.attrs);
  }
  const outShape = perm.map((a) => x.shape[a]);
  const simple = simplifyPermutation(x.shape, perm);
  if (simple.perm.every((a, i) => a === i)) {
    return runKernel(backend, "Reshape", { x }, { shape: outShape });
  }
  const out = backend.makeOutput(outShape, x.dtype);
  transposeInto(
    heapI32(backend, x),
    heapI32(backend, out),
    simple.shape,
    simple.perm,
  );
  return out;
}
