import assert from "node:assert/strict";
import { join } from "node:path";
import JSZip from "jszip";
import {
  buildMiniVGGNet,
  CLASS_NAMES,
  initWasmBackend,
  loadBundle,
  loadModelDir,
  saveBundle,
  saveModelDir,
  tf,
} from "../lib/mod.ts";

await initWasmBackend();

function predictions(model: tf.LayersModel): Float32Array {
  return tf.tidy(() =>
    (model.predict(
      tf.randomUniform([4, 28, 28, 1], 0, 1, "float32", 3),
    ) as tf.Tensor).dataSync() as Float32Array
  );
}

Deno.test("a model saved in the tfjs Layers format loads back with the same predictions", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const model = buildMiniVGGNet({ seed: 2 });
    await saveModelDir(model, join(dir, "model"));
    const files = [...Deno.readDirSync(join(dir, "model"))].map((e) => e.name)
      .sort();
    assert.deepEqual(files, ["model.json", "weights.bin"]);
    const json = JSON.parse(
      await Deno.readTextFile(join(dir, "model", "model.json")),
    );
    assert.equal(json.format, "layers-model");
    assert.deepEqual(json.weightsManifest[0].paths, ["./weights.bin"]);
    const loaded = await loadModelDir(join(dir, "model"));
    assert.equal(loaded.countParams(), 1_679_082);
    assert.deepEqual(predictions(loaded), predictions(model));
    model.dispose();
    loaded.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("model.zip holds model.json, weights.bin and metadata.json and loads back", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const model = buildMiniVGGNet({ seed: 3 });
    const path = join(dir, "model.zip");
    await saveBundle(model, path, {
      classNames: CLASS_NAMES,
      metrics: { test_accuracy: 0.5 },
    });
    const zip = await JSZip.loadAsync(await Deno.readFile(path));
    assert.deepEqual(Object.keys(zip.files).sort(), [
      "metadata.json",
      "model.json",
      "weights.bin",
    ]);
    const { model: loaded, metadata } = await loadBundle(path);
    assert.deepEqual(metadata.classNames, [...CLASS_NAMES]);
    assert.deepEqual(metadata.metrics, { test_accuracy: 0.5 });
    assert.deepEqual(predictions(loaded), predictions(model));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [
      "model.zip",
    ], "no temporary files left");
    model.dispose();
    loaded.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loading a missing or damaged bundle fails with one clear sentence", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => loadBundle(join(dir, "nope.zip")),
      /cannot be read; train a model first/,
    );
    await Deno.writeTextFile(join(dir, "bad.zip"), "not a zip");
    await assert.rejects(
      () => loadBundle(join(dir, "bad.zip")),
      /is not a valid zip file/,
    );
    const zip = new JSZip();
    zip.file("model.json", "{}");
    await Deno.writeFile(
      join(dir, "part.zip"),
      await zip.generateAsync({ type: "uint8array" }),
    );
    await assert.rejects(
      () => loadBundle(join(dir, "part.zip")),
      /has no weights\.bin/,
    );
    await assert.rejects(
      () => loadModelDir(join(dir, "nothing")),
      /model\.json cannot be read/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
