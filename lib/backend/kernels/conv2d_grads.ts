/**
 * The two gradients of a 2-D convolution (NHWC) for the WASM backend:
 *
 * - Filter gradient of a 3×3, stride-1, "same" convolution (MiniVGGNet's
 *   layers after the first): Winograd, on every thread (`conv2d.ts`).
 * - Any other filter gradient:
 *   dW[kh,kw,ci,co] = Σ x[n, oh·sh+kh−pt, ow·sw+kw−pl, ci] · dy[n,oh,ow,co]
 *   is one matrix product, patchesᵀ (KH·KW·Ci × N·OH·OW) · dy (N·OH·OW × Co).
 *   Our WebAssembly kernels build the patch matrix (im2col), XNNPACK
 *   multiplies. (The textbook alternative, a convolution of x with a 28×28
 *   "kernel" made of dy, makes XNNPACK repack that kernel on every call.)
 * - Input gradient: dx is the convolution of dy with the filter rotated by
 *   180° and its channels swapped, padded so the output has the input's size
 *   (stride 1), run by the `Conv2D` kernel (so Winograd for 3×3 "same");
 *   direct loops for other strides.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import { pointerOf, runGemm, simdKernels } from "../simd/mod.ts";
import { winogradApplies, winogradFilterGrad } from "./conv2d.ts";
import {
  heapF32,
  type KernelArgs,
  release,
  runKernel,
  runStock,
  type TensorInfo,
} from "./util.ts";

type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

interface ConvAttrs {
  strides: [number, number] | number;
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat?: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
}

function convInfo(
  xShape: number[],
  filterShape: number[],
  attrs: ConvAttrs,
): Conv2DInfo {
  if (attrs.dataFormat === "NCHW") {
    throw new Error(
      "convolution gradients on the wasm backend support NHWC only",
    );
  }
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
}

function stride1(info: Conv2DInfo): boolean {
  return info.strideHeight === 1 && info.strideWidth === 1 &&
    info.dilationHeight === 1 && info.dilationWidth === 1;
}

/** Filter gradient by direct loops (any stride and padding). */
function filterGradDirect(
  xs: Float32Array,
  dys: Float32Array,
  dw: Float32Array,
  info: Conv2DInfo,
): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: Ci } = info;
  const { outHeight: OH, outWidth: OW, outChannels: Co } = info;
  const {
    filterHeight: KH,
    filterWidth: KW,
    strideHeight: sh,
    strideWidth: sw,
  } = info;
  const pt = info.padInfo.top, pl = info.padInfo.left;
  dw.fill(0);
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      for (let n = 0; n < N; n++) {
        for (let oh = 0; oh < OH; oh++) {
          const h = oh * sh + kh - pt;
          if (h < 0 || h >= H) continue;
          for (let ow = 0; ow < OW; ow++) {
            const w = ow * sw + kw - pl;
            if (w < 0 || w >= W) continue;
            const xo = ((n * H + h) * W + w) * Ci;
            const yo = ((n * OH + oh) * OW + ow) * Co;
            for (let ci = 0; ci < Ci; ci++) {
              const xv = xs[xo + ci];
              const wo = ((kh * KW + kw) * Ci + ci) * Co;
              for (let co = 0; co < Co; co++) dw[wo + co] += xv * dys[yo + co];
            }
          }
        }
      }
    }
  }
}

/** Input gradient by direct loops (any stride and padding). */
function inputGradDirect(
  dys: Float32Array,
  ws: Float32Array,
  dx: Float32Array,
  info: Conv2DInfo,
): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: Ci } = info;
  const { outHeight: OH, outWidth: OW, outChannels: Co } = info;
  const {
    filterHeight: KH,
    filterWidth: KW,
    strideHeight: sh,
    strideWidth: sw,
  } = info;
  const pt = info.padInfo.top, pl = info.padInfo.left;
  dx.fill(0);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const yo = ((n * OH + oh) * OW + ow) * Co;
        for (let kh = 0; kh < KH; kh++) {
          const h = oh * sh + kh - pt;
          if (h < 0 || h >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const w = ow * sw + kw - pl;
            if (w < 0 || w >= W) continue;
            const xo = ((n * H + h) * W + w) * Ci;
            for (let ci = 0; ci < Ci; ci++) {
              const wo = ((kh * KW + kw) * Ci + ci) * Co;
              let s = 0;
              for (let co = 0; co < Co; co++) s += dys[yo + co] * ws[wo + co];
              dx[xo + ci] += s;
            }
          }
        }
      }
    }
  }
}

/**
 * `Conv2DBackpropFilter` for the WASM backend: inputs `{ x, dy }`,
 * attributes `{ strides, pad, dataFormat, dimRoundingMode, filterShape }`.
 */
export function conv2DBackpropFilter(args: KernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  if (
    x.dtype === "float32" && dy.dtype === "float32" &&
    winogradApplies(x.shape, attrs.filterShape, attrs)
  ) {
    return winogradFilterGrad(backend, x, dy);
  }
  const info = convInfo(x.shape, attrs.filterShape, attrs);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: Ci } = info;
  const taps = info.filterHeight * info.filterWidth * Ci;
  const positions = N * info.outHeight * info.outWidth;
  const simd = simdKernels(backend);
  // x channel-major ([Ci, N, H, W]), so each patch row copies runs.
  const xT = backend.makeOutput([Ci, N, H, W], "float32");
  // For our product (Co a multiple of 8), rows padded with zeros to a
  // multiple of 4, its tile height.
  const ours = info.outChannels % 8 === 0;
  const patchesT = backend.makeOutput(
    [1, ours ? Math.ceil(taps / 4) * 4 : taps, positions],
    "float32",
  );
  simd.transpose2d(
    pointerOf(backend, x),
    pointerOf(backend, xT),
    N * H * W,
    Ci,
  );
  simd.im2colT(
    pointerOf(backend, xT),
    pointerOf(backend, patchesT),
    N,
    H,
    W,
    Ci,
    info.outHeight,
    info.outWidth,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  );
  if (ours) {
    const dw = patchProduct(backend, patchesT, dy, taps, positions, attrs);
    release(backend, xT, patchesT);
    return dw;
  }
  const dy2 = runKernel(backend, "Reshape", { x: dy }, {
    shape: [1, positions, info.outChannels],
  });
  // dW (taps × Co) = patchesᵀ · dy: one long XNNPACK product; packing dy
  // (positions × Co) is cheap, unlike a 28×28 "filter" of the
  // convolution form of this gradient.
  const dw = runStock(backend, "BatchMatMul", { a: patchesT, b: dy2 }, {
    transposeA: false,
    transposeB: false,
  });
  const out = runKernel(backend, "Reshape", { x: dw }, {
    shape: attrs.filterShape,
  });
  release(backend, xT, patchesT, dy2, dw);
  return out;
}

/** Positions per chunk of the patch product's depth, at least. */
const CHUNK_POSITIONS = 4096;
/** Chunks of the patch product's depth, at most. */
const MAX_CHUNKS = 8;

/**
 * dW (taps × Co) = patchesT (taps × positions, rows padded to 4 with
 * zeros) · dy (positions × Co), Co a multiple of 8, on our pooled product:
 * the depth (every position of the batch, 100k at batch 128) is cut into
 * chunks that the threads share, and the chunks' partial sums are added
 * in order (the same bits whatever the thread count).
 */
function patchProduct(
  backend: KernelArgs["backend"],
  patchesT: TensorInfo,
  dy: TensorInfo,
  taps: number,
  positions: number,
  attrs: { filterShape: number[] },
): TensorInfo {
  const Co = dy.shape[3];
  const M = patchesT.shape[1];
  heapF32(backend, patchesT).fill(0, taps * positions); // the padding rows
  const chunks = Math.max(
    1,
    Math.min(MAX_CHUNKS, Math.floor(positions / CHUNK_POSITIONS)),
  );
  const partial = backend.makeOutput([chunks * M * Co], "float32");
  runGemm(backend, {
    A: pointerOf(backend, patchesT),
    ars: positions,
    acs: 1,
    B: pointerOf(backend, dy),
    C: pointerOf(backend, partial),
    M,
    N: Co,
    K: positions,
    chunks,
  });
  const out = backend.makeOutput(attrs.filterShape, "float32");
  const sums = heapF32(backend, partial), dw = heapF32(backend, out);
  for (let i = 0; i < taps * Co; i++) {
    let s = 0;
    for (let c = 0; c < chunks; c++) s += sums[c * M * Co + i];
    dw[i] = s;
  }
  release(backend, partial);
  return out;
}

/**
 * The naive filter gradient — direct loops for every geometry — as the
 * project first had it. Kept as the benchmark's baseline (`deno task bench`).
 */
export function conv2DBackpropFilterNaive(args: KernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const info = convInfo(x.shape, attrs.filterShape, attrs);
  const out = backend.makeOutput(attrs.filterShape, "float32");
  filterGradDirect(
    heapF32(backend, x),
    heapF32(backend, dy),
    heapF32(backend, out),
    info,
  );
  return out;
}

/**
 * `Conv2DBackpropInput` for the WASM backend: inputs `{ dy, filter }`,
 * attributes `{ strides, pad, dataFormat, dimRoundingMode, inputShape }`.
 */
export function conv2DBackpropInput(args: KernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const info = convInfo(attrs.inputShape, filter.shape, attrs);
  const p = info.padInfo;
  const KH = info.filterHeight, KW = info.filterWidth;
  const pads = [
    KH - 1 - p.top,
    KH - 1 - p.bottom,
    KW - 1 - p.left,
    KW - 1 - p.right,
  ];
  if (stride1(info) && pads.every((v) => v >= 0)) {
    // One pass of ours rather than tfjs-wasm's Reverse and Transpose.
    const [, , Ci, Co] = filter.shape;
    const swapped = backend.makeOutput([KH, KW, Co, Ci], "float32");
    simdKernels(backend).flipSwapFilter(
      pointerOf(backend, filter),
      pointerOf(backend, swapped),
      KH,
      KW,
      Ci,
      Co,
    );
    const out = runKernel(backend, "Conv2D", { x: dy, filter: swapped }, {
      strides: 1,
      pad: [[0, 0], [pads[0], pads[1]], [pads[2], pads[3]], [0, 0]],
      dataFormat: "NHWC",
      dilations: 1,
    });
    release(backend, swapped);
    return out;
  }
  const out = backend.makeOutput(attrs.inputShape, "float32");
  inputGradDirect(
    heapF32(backend, dy),
    heapF32(backend, filter),
    heapF32(backend, out),
    info,
  );
  return out;
}
