/**
 * `Conv2D` and `FusedConv2D` for the WASM backend, and the Winograd filter
 * gradient. The 3×3, stride-1, "same" convolutions that make up MiniVGGNet
 * (and their input gradients, which are such convolutions too) run on this
 * project's Winograd F(4×4, 3×3) kernel on every thread of the kernel pool
 * (`simd/pool.ts`), the first layer (one input channel) on a direct kernel;
 * every other geometry goes to the stock XNNPACK kernel.
 * The filter gradient is a Winograd F(4×4, 3×3) sum over the same tiles.
 *
 * F(4×4, 3×3) does 36 multiplies per 4×4 output tile and channel pair where
 * a direct convolution does 144 (F(2×2, 3×3): 64). Its rounding differs
 * from a direct sum by a few millionths of the values' scale (tests compare
 * it with the CPU backend).
 *
 * @module
 */
import { tf } from "../../tf.ts";
import { pointerOf, simdPool } from "../simd/mod.ts";
import { type KernelArgs, release, runStock, type TensorInfo } from "./util.ts";

/** 4×4 output tiles per block of the forward kernel: a multiple of 6 (the product's row step). */
const TILES_PER_BLOCK = 36;
/** Blocks of tiles the filter gradient is summed over, at most. */
const FILTER_GRAD_BLOCKS = 8;

interface ConvAttrs {
  strides: [number, number] | number;
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat?: "NHWC" | "NCHW";
  dilations?: [number, number] | number;
  dimRoundingMode?: "floor" | "round" | "ceil";
  activation?: string;
}

/**
 * Whether a convolution is 3×3 on float32 NHWC, stride and dilation 1,
 * with one pixel of zero padding on every side (the output has the
 * input's size).
 */
function sameSize3x3(
  xShape: number[],
  filterShape: number[],
  attrs: ConvAttrs,
): boolean {
  if (attrs.dataFormat === "NCHW" || xShape.length !== 4) return false;
  const [KH, KW, C] = filterShape;
  if (KH !== 3 || KW !== 3 || xShape[3] !== C) return false;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const p = info.padInfo;
  return info.strideHeight === 1 && info.strideWidth === 1 &&
    info.dilationHeight === 1 && info.dilationWidth === 1 &&
    p.top === 1 && p.bottom === 1 && p.left === 1 && p.right === 1 &&
    info.outHeight === xShape[1] && info.outWidth === xShape[2];
}

/**
 * Whether our Winograd kernel computes this convolution: a 3×3 "same"
 * convolution (see above) with input channels a multiple of 4 and output
 * channels a multiple of 8.
 */
export function winogradApplies(
  xShape: number[],
  filterShape: number[],
  attrs: ConvAttrs,
): boolean {
  const [, , C, Co] = filterShape;
  return C % 4 === 0 && Co % 8 === 0 &&
    sameSize3x3(xShape, filterShape, attrs);
}

/**
 * Whether our direct kernel for a first layer computes this convolution: a
 * 3×3 "same" convolution of one-channel images to a multiple of 8 channels
 * (MiniVGGNet's first layer).
 */
export function singleChannelApplies(
  xShape: number[],
  filterShape: number[],
  attrs: ConvAttrs,
): boolean {
  const [, , C, Co] = filterShape;
  return C === 1 && Co % 8 === 0 && sameSize3x3(xShape, filterShape, attrs);
}

/**
 * How the Winograd kernels' 4×4 output tiles cover images [N, H, W]: each
 * image on its own (`K` = 0, ⌈H/4⌉·⌈W/4⌉ tiles per image), or a mosaic of K images to
 * a row with one row and one column of zeros between neighbours (their
 * padding, shared), where that takes fewer tiles: 14 × 14 images need 16
 * tiles each on their own, a quarter of them outside the image, and about
 * 14 in a mosaic. The K chosen is the one with the fewest tiles (the
 * smallest on ties).
 */
export function winogradTiling(
  N: number,
  H: number,
  W: number,
): { K: number; tiles: number } {
  let best = { K: 0, tiles: N * Math.ceil(H / 4) * Math.ceil(W / 4) };
  for (let K = 1; K <= N; K++) {
    const rows = Math.ceil(N / K) * (H + 1) - 1;
    const tiles = Math.ceil(rows / 4) * Math.ceil((K * (W + 1) - 1) / 4);
    if (tiles < best.tiles) best = { K, tiles };
  }
  return best;
}

/**
 * How the Winograd kernels cut an [N, H, W, C] ⊛ [3, 3, C, Co]
 * convolution: `T` tiles per block, the tiling `K` and its number of
 * `tiles` ({@link winogradTiling}), `blocks` blocks of T tiles, the
 * transformed filter's floats, and the scratch floats one thread needs for
 * a block.
 */
export function winogradPlan(
  [N, H, W, C]: number[],
  Co: number,
): {
  T: number;
  K: number;
  tiles: number;
  blocks: number;
  filterFloats: number;
  blockFloats: number;
} {
  const T = TILES_PER_BLOCK;
  const { K, tiles } = winogradTiling(N, H, W);
  return {
    T,
    K,
    tiles,
    blocks: Math.ceil(tiles / T),
    filterFloats: 36 * C * Co,
    // V and M, 36 planes of T tiles each; the transforms' 36 vectors and
    // a tile's 12 column words; the input transform's ring of columns.
    // The same scratch serves the filter's transform (72 + 36·Co floats)
    // and the filter gradient's sum (36·256 + 72): with T = 36 and C + Co
    // ≥ 12, there are at least 15,552.
    blockFloats: 36 * T * (C + Co) + 160 + 36 * C,
  };
}

/** out = act(x ⊛ filter + bias) by Winograd; see {@link winogradApplies}. */
function winograd(
  backend: KernelArgs["backend"],
  x: TensorInfo,
  filter: TensorInfo,
  bias: TensorInfo | undefined,
  relu: boolean,
): TensorInfo {
  const [N, H, W, C] = x.shape;
  const Co = filter.shape[3];
  const pool = simdPool(backend);
  const { T, K, blocks, filterFloats, blockFloats } = winogradPlan(
    x.shape,
    Co,
  );
  const out = backend.makeOutput([N, H, W, Co], "float32");
  const U = backend.makeOutput([filterFloats], "float32");
  const scratch = backend.makeOutput([pool.threads * blockFloats], "float32");
  // The filter's transform, a channel at a time on every thread.
  pool.run(
    "winogradFilter",
    [
      pointerOf(backend, filter),
      pointerOf(backend, U),
      C,
      Co,
      pointerOf(backend, scratch),
    ],
    4,
    4 * blockFloats,
    C,
  );
  pool.run(
    "winogradConv3x3",
    [
      pointerOf(backend, x),
      pointerOf(backend, U),
      bias === undefined ? 0 : pointerOf(backend, bias),
      pointerOf(backend, out),
      pointerOf(backend, scratch),
      N,
      H,
      W,
      C,
      Co,
      relu ? 1 : 0,
      T,
      K,
    ],
    4,
    4 * blockFloats,
    blocks,
  );
  release(backend, U, scratch);
  return out;
}

/** out = act(x ⊛ filter + bias) directly; see {@link singleChannelApplies}. */
export function singleChannel(
  backend: KernelArgs["backend"],
  x: TensorInfo,
  filter: TensorInfo,
  bias: TensorInfo | undefined,
  relu: boolean,
): TensorInfo {
  const [N, H, W] = x.shape;
  const Co = filter.shape[3];
  const pool = simdPool(backend);
  const padded = (H + 2) * (W + 6);
  const out = backend.makeOutput([N, H, W, Co], "float32");
  const scratch = backend.makeOutput([pool.threads * padded], "float32");
  pool.run(
    "conv3x3Single",
    [
      pointerOf(backend, x),
      pointerOf(backend, filter),
      bias === undefined ? 0 : pointerOf(backend, bias),
      pointerOf(backend, out),
      pointerOf(backend, scratch),
      N,
      H,
      W,
      Co,
      relu ? 1 : 0,
    ],
    4,
    4 * padded,
    N,
  );
  release(backend, scratch);
  return out;
}

/**
 * The filter gradient of a convolution {@link winogradApplies} takes, by
 * Winograd: dW = Gᵀ [Σ over tiles (Bᵀ d B) ⊙ (A dy Aᵀ)] G. The tiles are
 * cut into at most 8 blocks whose sums the pool's threads compute; they
 * are added in block order (the threads sharing the filter's positions),
 * so the result does not depend on the thread count.
 */
export function winogradFilterGrad(
  backend: KernelArgs["backend"],
  x: TensorInfo,
  dy: TensorInfo,
): TensorInfo {
  const [N, H, W, C] = x.shape;
  const Co = dy.shape[3];
  const pool = simdPool(backend);
  // The same tiles and scratch as the forward kernel (dy's transform in
  // place of the product).
  const { T, K, tiles, blockFloats } = winogradPlan(x.shape, Co);
  const G = Math.ceil(tiles / FILTER_GRAD_BLOCKS);
  const blocks = Math.ceil(tiles / G);
  const dW = backend.makeOutput([3, 3, C, Co], "float32");
  const partials = backend.makeOutput([blocks * 36 * C * Co], "float32");
  const scratch = backend.makeOutput([pool.threads * blockFloats], "float32");
  pool.run(
    "winogradFilterGrad",
    [
      pointerOf(backend, x),
      pointerOf(backend, dy),
      pointerOf(backend, partials),
      pointerOf(backend, scratch),
      N,
      H,
      W,
      C,
      Co,
      T,
      G,
      K,
    ],
    3,
    4 * blockFloats,
    blocks,
  );
  // The partials' sum, on every thread too: ranges of 256 filter positions.
  pool.run(
    "winogradFilterGradSum",
    [
      pointerOf(backend, partials),
      blocks,
      pointerOf(backend, dW),
      C,
      Co,
      pointerOf(backend, scratch),
    ],
    5,
    4 * blockFloats,
    Math.ceil((C * Co) / 256),
  );
  release(backend, partials, scratch);
  return dW;
}

function isFloat(...infos: (TensorInfo | undefined)[]): boolean {
  return infos.every((t) => t === undefined || t.dtype === "float32");
}

/**
 * `Conv2D` for the WASM backend: inputs `{ x, filter }`, attributes
 * `{ strides, pad, dataFormat, dilations, dimRoundingMode }`.
 */
export function conv2D(args: KernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as ConvAttrs;
  const x = inputs.x as TensorInfo, filter = inputs.filter as TensorInfo;
  if (isFloat(x, filter) && winogradApplies(x.shape, filter.shape, attrs)) {
    return winograd(backend, x, filter, undefined, false);
  }
  if (
    isFloat(x, filter) && singleChannelApplies(x.shape, filter.shape, attrs)
  ) {
    return singleChannel(backend, x, filter, undefined, false);
  }
  return runStock(backend, "Conv2D", inputs, args.attrs);
}

/**
 * `FusedConv2D` for the WASM backend: inputs `{ x, filter, bias?,
 * preluActivationWeights? }`, attributes as `Conv2D` plus `activation`.
 * Winograd takes a per-channel bias and a linear or ReLU activation.
 */
export function fusedConv2D(args: KernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as ConvAttrs;
  const x = inputs.x as TensorInfo, filter = inputs.filter as TensorInfo;
  const bias = inputs.bias as TensorInfo | undefined;
  const activation = attrs.activation ?? "linear";
  const biasFits = bias === undefined ||
    (bias.shape.length === 1 && bias.shape[0] === filter.shape[3]);
  if (
    (activation === "linear" || activation === "relu") && biasFits &&
    inputs.preluActivationWeights === undefined && isFloat(x, filter, bias)
  ) {
    const relu = activation === "relu";
    if (winogradApplies(x.shape, filter.shape, attrs)) {
      return winograd(backend, x, filter, bias, relu);
    }
    if (singleChannelApplies(x.shape, filter.shape, attrs)) {
      return singleChannel(backend, x, filter, bias, relu);
    }
  }
  return runStock(backend, "FusedConv2D", inputs, args.attrs);
}
