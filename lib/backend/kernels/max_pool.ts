/**
 * MaxPool and MaxPoolGrad for the WASM backend. Each output gradient goes
 * to the position of its window's maximum (the first one, on ties), exactly
 * as the tfjs CPU backend routes it. The stock WASM kernel of tfjs 4.22
 * returns zero for windows whose values are all negative; this one does not.
 * MiniVGGNet's case, 2×2 windows with stride 2 tiling the input, with
 * channels in 4s, runs on every thread of the kernel pool, forwards (the
 * stock kernel runs on one) and backwards; other pools forwards are stock.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import { pointerOf, runRows } from "../simd/mod.ts";
import { heapF32, type KernelArgs, runStock, type TensorInfo } from "./util.ts";

interface PoolAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: "valid" | "same" | number;
  dimRoundingMode?: "floor" | "round" | "ceil";
}

function poolInfo(x: TensorInfo, attrs: PoolAttrs) {
  return tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
}

/** 2×2 windows, stride 2, no padding, tiling the input exactly. */
function tiles2x2(info: ReturnType<typeof poolInfo>): boolean {
  return info.filterHeight === 2 && info.filterWidth === 2 &&
    info.strideHeight === 2 && info.strideWidth === 2 &&
    info.padInfo.top === 0 && info.padInfo.left === 0 &&
    info.inHeight === 2 * info.outHeight && info.inWidth === 2 * info.outWidth;
}

/**
 * Runs `maxPool2x2` or `maxPool2x2Grad` (tensor pointers first, then the
 * shape) on every thread of the pool, in blocks of output rows.
 */
function runPool2x2(
  backend: KernelArgs["backend"],
  name: "maxPool2x2" | "maxPool2x2Grad",
  tensors: TensorInfo[],
  info: ReturnType<typeof poolInfo>,
): void {
  const rows = info.batchSize * info.outHeight;
  runRows(
    backend,
    name,
    [
      ...tensors.map((t) => pointerOf(backend, t)),
      rows,
      info.outWidth,
      info.inChannels,
    ],
    rows,
    4 * info.outWidth * info.inChannels, // floats of x per row of output
  );
}

/**
 * The MaxPool kernel function: input `{ x }`, attributes as MaxPoolGrad's,
 * NHWC.
 */
export function maxPool(args: KernelArgs): TensorInfo {
  const { inputs, backend, attrs = {} } = args;
  const x = inputs.x as TensorInfo;
  const info = poolInfo(x, attrs as unknown as PoolAttrs);
  if (x.dtype !== "float32" || !tiles2x2(info) || info.inChannels % 4 !== 0) {
    return runStock(backend, "MaxPool", inputs, attrs);
  }
  const out = backend.makeOutput(
    [info.batchSize, info.outHeight, info.outWidth, info.inChannels],
    "float32",
  );
  runPool2x2(backend, "maxPool2x2", [x, out], info);
  return out;
}

/**
 * The common case, 2×2 windows with stride 2 tiling the input exactly:
 * every input position is in one window, so each is written once, with no
 * clearing pass. Ties route as in the general loop (to the first maximum);
 * a window holding NaN may route differently.
 */
function pool2x2Grad(
  xs: Float32Array,
  dys: Float32Array,
  dx: Float32Array,
  info: { batchSize: number; outHeight: number; outWidth: number } & {
    inChannels: number;
  },
): void {
  const C = info.inChannels, rowStride = 2 * info.outWidth * C;
  let o = 0;
  for (let bh = 0; bh < info.batchSize * info.outHeight; bh++) {
    const rowBase = 2 * bh * rowStride; // input rows 2·oh and 2·oh + 1
    for (let ow = 0; ow < info.outWidth; ow++) {
      const i00 = rowBase + 2 * ow * C;
      for (let c = 0; c < C; c++, o++) {
        const a = i00 + c, b = a + C, d = a + rowStride, e = d + C;
        const va = xs[a], vb = xs[b], vd = xs[d], ve = xs[e];
        // Which one the loop "best = first, replaced only by a larger one"
        // picks, as 0/1 flags without branches (random data would
        // mispredict them half the time).
        const wb = +(vb > va) & +(vb >= vd) & +(vb >= ve);
        const wd = +(vd > va) & +(vd > vb) & +(vd >= ve);
        const we = +(ve > va) & +(ve > vb) & +(ve > vd);
        const g = dys[o];
        dx[a] = (1 - (wb | wd | we)) * g;
        dx[b] = wb * g;
        dx[d] = wd * g;
        dx[e] = we * g;
      }
    }
  }
}

/**
 * The kernel function: inputs `{ dy, input, output }`, attributes
 * `{ filterSize, strides, pad, dimRoundingMode }`, NHWC.
 */
export function maxPoolGrad(args: KernelArgs): TensorInfo {
  const { inputs, backend, attrs = {} } = args;
  const dy = inputs.dy as TensorInfo;
  const x = inputs.input as TensorInfo;
  const info = poolInfo(x, attrs as unknown as PoolAttrs);
  const out = backend.makeOutput(x.shape, "float32");
  if (tiles2x2(info) && info.inChannels % 4 === 0) {
    runPool2x2(backend, "maxPool2x2Grad", [x, dy, out], info);
    return out;
  }
  const xs = heapF32(backend, x);
  const dys = heapF32(backend, dy);
  const dx = heapF32(backend, out);
  if (tiles2x2(info)) {
    pool2x2Grad(xs, dys, dx, info);
    return out;
  }
  dx.fill(0);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } =
    info;
  const { strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const padTop = info.padInfo.top, padLeft = info.padInfo.left;
  const C = inChannels;
  let o = 0;
  for (let b = 0; b < batchSize; b++) {
    const xBase = b * inHeight * inWidth * C;
    for (let oh = 0; oh < outHeight; oh++) {
      const h0 = oh * strideHeight - padTop;
      const hStart = Math.max(0, h0),
        hEnd = Math.min(inHeight, h0 + filterHeight);
      for (let ow = 0; ow < outWidth; ow++) {
        const w0 = ow * strideWidth - padLeft;
        const wStart = Math.max(0, w0),
          wEnd = Math.min(inWidth, w0 + filterWidth);
        for (let c = 0; c < C; c++, o++) {
          let best = -1;
          let bestValue = -Infinity;
          for (let h = hStart; h < hEnd; h++) {
            for (let w = wStart; w < wEnd; w++) {
              const i = xBase + (h * inWidth + w) * C + c;
              if (best < 0 || xs[i] > bestValue) {
                bestValue = xs[i];
                best = i;
              }
            }
          }
          if (best >= 0) dx[best] += dys[o];
        }
      }
    }
  }
  return out;
}
