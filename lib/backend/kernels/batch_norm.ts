/**
 * Batch normalisation (`FusedBatchNorm`) for the WASM backend, in one pass
 * for channels-last input with per-channel (1-D) statistics:
 *
 *     y = (x − mean[c]) · scale[c] / sqrt(variance[c] + ε) + offset[c]
 *
 * The per-channel factor is computed once per channel (the stock kernel
 * works it out element by element), and the pass over the data is
 * WebAssembly SIMD when the channel count is a multiple of 4. Other shapes
 * go to the stock kernel. The gradient is in `batch_norm_grad.ts`.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import { pointerOf, runRows } from "../simd/mod.ts";
import {
  heapF32,
  type KernelArgs,
  release,
  runStock,
  type TensorInfo,
} from "./util.ts";

/**
 * The kernel function: inputs `{ x, mean, variance, offset?, scale? }`,
 * attribute `{ varianceEpsilon }`.
 */
export function batchNorm(args: KernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const x = inputs.x as TensorInfo;
  const C = x.shape[x.shape.length - 1];
  const stats = ["mean", "variance", "offset", "scale"].map(
    (k) => inputs[k] as TensorInfo | undefined,
  );
  const perChannel = stats.every((t, i) =>
    (t == null && i >= 2) ||
    (t != null && t.dtype === "float32" && t.shape.length === 1 &&
      t.shape[0] === C)
  );
  if (x.dtype !== "float32" || !perChannel) {
    return runStock(backend, "FusedBatchNorm", inputs, args.attrs);
  }
  const { varianceEpsilon } = args.attrs as unknown as {
    varianceEpsilon: number;
  };
  const out = backend.makeOutput(x.shape, "float32");
  // Per-channel mean, factor and shift, in one heap allocation.
  const coef = backend.makeOutput([3 * C], "float32");
  const k = heapF32(backend, coef);
  const [m, v, off, s] = stats.map((t) =>
    t == null ? null : heapF32(backend, t)
  );
  for (let c = 0; c < C; c++) {
    k[c] = m![c];
    k[C + c] = (s ? s[c] : 1) / Math.sqrt(v![c] + varianceEpsilon);
    k[2 * C + c] = off ? off[c] : 0;
  }
  if (C % 4 === 0) {
    const p = pointerOf(backend, coef);
    const rows = tf.util.sizeFromShape(x.shape) / C;
    runRows(
      backend,
      "normalizeRows",
      [
        pointerOf(backend, x),
        pointerOf(backend, out),
        rows,
        C,
        p,
        p + 4 * C,
        p + 8 * C,
      ],
      rows,
      C,
    );
  } else {
    const xs = heapF32(backend, x), ys = heapF32(backend, out);
    for (let i = 0; i < xs.length; i += C) {
      for (let c = 0; c < C; c++) {
        ys[i + c] = (xs[i + c] - k[c]) * k[C + c] + k[2 * C + c];
      }
    }
  }
  release(backend, coef);
  return out;
}
