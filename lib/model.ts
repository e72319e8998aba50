/**
 * MiniVGGNet, exactly as in the Keras tutorial the project follows: two
 * blocks of (conv → ReLU → BatchNorm) ×2 → max-pool → dropout, then a
 * 512-unit dense layer and a softmax classifier. Activation comes *before*
 * BatchNorm, as in the original.
 *
 * @example
 * ```ts
 * import { buildMiniVGGNet } from "./model.ts";
 * const model = buildMiniVGGNet({ width: 28, height: 28, depth: 1, classes: 10 });
 * console.log(model.countParams()); // 1679082
 * ```
 *
 * @module
 */
import { tf } from "./tf.ts";
import { batchNormalization, dropout, inputConv2d } from "./layers.ts";

/**
 * Options of {@link buildMiniVGGNet}.
 *
 * @example
 * ```ts
 * import type { MiniVGGNetOptions } from "./model.ts";
 * const opts: MiniVGGNetOptions = { width: 28, height: 28, depth: 1, classes: 10, seed: 42 };
 * ```
 */
export interface MiniVGGNetOptions {
  /** Input width in pixels (default 28). */
  width?: number;
  /** Input height in pixels (default 28). */
  height?: number;
  /** Input channels (default 1, grayscale). */
  depth?: number;
  /** Number of classes (default 10). */
  classes?: number;
  /**
   * Seed for weight initialisation and dropout masks. Each layer derives
   * its own seed from it, so two models built with the same seed start from
   * the same weights.
   */
  seed?: number;
}

/** Number of parameters of MiniVGGNet on 28×28×1 input with 10 classes. */
export const MINIVGGNET_PARAMS = 1_679_082;
/** Trainable parameters of that model (BatchNorm moving statistics are not). */
export const MINIVGGNET_TRAINABLE_PARAMS = 1_677_674;

/**
 * Builds MiniVGGNet (channels last). The model is not compiled; training
 * code chooses loss and optimizer.
 *
 * @example
 * ```ts
 * import { buildMiniVGGNet } from "./model.ts";
 * const model = buildMiniVGGNet({ seed: 1 });
 * model.summary();
 * ```
 */
export function buildMiniVGGNet(
  options: MiniVGGNetOptions = {},
): tf.Sequential {
  if (tf.getBackend() === undefined || tf.engine().backendName === null) {
    throw new Error(
      "No TensorFlow.js backend is ready; call `await initWasmBackend()` before building the model.",
    );
  }
  const { width = 28, height = 28, depth = 1, classes = 10, seed } = options;
  let layerSeed = seed;
  const nextSeed = () => layerSeed === undefined ? undefined : ++layerSeed;
  const kernelInitializer = () =>
    tf.initializers.glorotUniform({ seed: nextSeed() });

  const model = tf.sequential({ name: "MiniVGGNet" });
  const conv = (filters: number, first = false) => {
    const args = {
      filters,
      kernelSize: 3,
      padding: "same" as const,
      kernelInitializer: kernelInitializer(),
    };
    // The first layer's input needs no gradient (see InputConv2D).
    model.add(
      first
        ? inputConv2d({ ...args, inputShape: [height, width, depth] })
        : tf.layers.conv2d(args),
    );
    model.add(tf.layers.activation({ activation: "relu" }));
    model.add(batchNormalization({ axis: -1 }));
  };
  const poolAndDrop = () => {
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(dropout({ rate: 0.25, seed: nextSeed() }));
  };

  conv(32, true);
  conv(32);
  poolAndDrop();
  conv(64);
  conv(64);
  poolAndDrop();

  model.add(tf.layers.flatten());
  model.add(
    tf.layers.dense({ units: 512, kernelInitializer: kernelInitializer() }),
  );
  model.add(tf.layers.activation({ activation: "relu" }));
  model.add(batchNormalization());
  model.add(dropout({ rate: 0.5, seed: nextSeed() }));
  model.add(
    tf.layers.dense({ units: classes, kernelInitializer: kernelInitializer() }),
  );
  model.add(tf.layers.activation({ activation: "softmax" }));
  return model;
}

/**
 * One row of a model's layer table.
 *
 * @example
 * ```ts
 * import type { LayerRow } from "./model.ts";
 * const row: LayerRow = { name: "conv2d_1", type: "Conv2D", outputShape: [null, 28, 28, 32], params: 320 };
 * ```
 */
export interface LayerRow {
  name: string;
  type: string;
  outputShape: (number | null)[];
  params: number;
}

/**
 * The layer table of a model (name, type, output shape, parameters), as
 * plain data for printing or display.
 *
 * @example
 * ```ts
 * import { buildMiniVGGNet, layerTable } from "./model.ts";
 * const rows = layerTable(buildMiniVGGNet());
 * console.log(rows[0]); // { name: "conv2d_…", type: "Conv2D", outputShape: [null, 28, 28, 32], params: 320 }
 * ```
 */
export function layerTable(model: tf.LayersModel): LayerRow[] {
  return model.layers.map((layer) => ({
    name: layer.name,
    type: layer.getClassName(),
    outputShape: layer.outputShape as (number | null)[],
    params: layer.countParams(),
  }));
}

/**
 * Floating-point operations (multiply and add counted separately) of one
 * forward pass of one image through the model's convolution and dense
 * layers — the layers that dominate the cost.
 *
 * @example
 * ```ts
 * import { buildMiniVGGNet, forwardFlops } from "./model.ts";
 * console.log(forwardFlops(buildMiniVGGNet()) / 1e6); // ≈ 39.8 (MFLOP)
 * ```
 */
export function forwardFlops(model: tf.LayersModel): number {
  let flops = 0;
  for (const layer of model.layers) {
    const out = layer.outputShape as number[];
    if (layer.getClassName() === "Conv2D") {
      const [kh, kw, cin, cout] = layer.getWeights()[0].shape;
      flops += 2 * out[1] * out[2] * cout * kh * kw * cin;
    } else if (layer.getClassName() === "Dense") {
      const [nin, nout] = layer.getWeights()[0].shape;
      flops += 2 * nin * nout;
    }
  }
  return flops;
}
