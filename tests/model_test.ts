import assert from "node:assert/strict";
import {
  buildMiniVGGNet,
  forwardFlops,
  initWasmBackend,
  layerTable,
  MINIVGGNET_PARAMS,
  MINIVGGNET_TRAINABLE_PARAMS,
  tf,
} from "../lib/mod.ts";

await initWasmBackend();

function countOf(weights: tf.LayerVariable[]): number {
  return weights.reduce(
    (n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1),
    0,
  );
}

Deno.test("MiniVGGNet has 1,679,082 parameters, 1,677,674 trainable", () => {
  const model = buildMiniVGGNet();
  assert.equal(MINIVGGNET_PARAMS, 1_679_082);
  assert.equal(MINIVGGNET_TRAINABLE_PARAMS, 1_677_674);
  assert.equal(model.countParams(), 1_679_082);
  assert.equal(countOf(model.trainableWeights), 1_677_674);
  assert.equal(countOf(model.nonTrainableWeights), 1_408);
  model.dispose();
});

Deno.test("MiniVGGNet layer order: activation before BatchNorm, as in the original", () => {
  const model = buildMiniVGGNet();
  const rows = layerTable(model);
  const summary = rows.map((r) => {
    const layer = model.getLayer(r.name);
    const cfg = layer.getConfig();
    if (r.type === "Activation") return `act:${cfg.activation}`;
    if (r.type === "Conv2D") {
      return `conv${cfg.filters}/${cfg.kernelSize}/${cfg.padding}`;
    }
    if (r.type === "Dense") return `dense${cfg.units}`;
    if (r.type === "Dropout") return `drop${cfg.rate}`;
    if (r.type === "MaxPooling2D") return `pool${cfg.poolSize}`;
    if (r.type === "BatchNormalization") return "bn";
    return r.type.toLowerCase();
  });
  assert.deepEqual(summary, [
    "conv32/3,3/same",
    "act:relu",
    "bn",
    "conv32/3,3/same",
    "act:relu",
    "bn",
    "pool2,2",
    "drop0.25",
    "conv64/3,3/same",
    "act:relu",
    "bn",
    "conv64/3,3/same",
    "act:relu",
    "bn",
    "pool2,2",
    "drop0.25",
    "flatten",
    "dense512",
    "act:relu",
    "bn",
    "drop0.5",
    "dense10",
    "act:softmax",
  ]);
  assert.deepEqual(rows[0].outputShape, [null, 28, 28, 32]);
  assert.deepEqual(rows[6].outputShape, [null, 14, 14, 32]);
  assert.deepEqual(rows[14].outputShape, [null, 7, 7, 64]);
  assert.deepEqual(rows[16].outputShape, [null, 3136]);
  assert.deepEqual(rows.at(-1)!.outputShape, [null, 10]);
  assert.equal(rows[0].params, 320);
  assert.equal(rows[17].params, 3136 * 512 + 512);
  model.dispose();
});

Deno.test("MiniVGGNet forward cost is 39.8 MFLOP per image", () => {
  const model = buildMiniVGGNet();
  // 2·(28²·32·9·1 + 28²·32·9·32 + 14²·64·9·32 + 14²·64·9·64 + 3136·512 + 512·10)
  assert.equal(forwardFlops(model), 39_799_808);
  model.dispose();
});

Deno.test("MiniVGGNet with the same seed starts from the same weights; other seeds differ", () => {
  const [a, b, c] = [7, 7, 8].map((seed) => buildMiniVGGNet({ seed }));
  const first = (m: tf.LayersModel) => Array.from(m.getWeights()[0].dataSync());
  assert.deepEqual(first(a), first(b));
  assert.notDeepEqual(first(a), first(c));
  [a, b, c].forEach((m) => m.dispose());
});

Deno.test("MiniVGGNet outputs a probability distribution over 10 classes", () => {
  const model = buildMiniVGGNet({ seed: 1 });
  const y = tf.tidy(() =>
    model.predict(
      tf.randomUniform([3, 28, 28, 1], 0, 1, "float32", 5),
    ) as tf.Tensor
  );
  assert.deepEqual(y.shape, [3, 10]);
  const sums = tf.tidy(() => tf.sum(y, 1).dataSync());
  for (const s of sums) assert.ok(Math.abs(s - 1) < 1e-5, `row sums to ${s}`);
  tf.dispose([y]);
  model.dispose();
});
