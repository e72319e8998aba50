import assert from "node:assert/strict";
import { join } from "node:path";
import JSZip from "jszip";
import {
  buildMiniVGGNet,
  CLASS_NAMES,
  initWasmBackend,
  loadModelZip,
  modelMetadata,
  ModelZipError,
  saveModelZip,
  tf,
} from "../lib/mod.ts";
import { loadModelDir, saveModelDir } from "../lib/model_zip.ts";
import {
  buildZip,
  concat,
  member,
  zerosDeflateRaw,
  type ZipMember,
} from "./fixtures/bombs.ts";

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
    await saveModelZip(model, path, {
      classNames: CLASS_NAMES,
      metrics: { test_accuracy: 0.5 },
    });
    const zip = await JSZip.loadAsync(await Deno.readFile(path));
    assert.deepEqual(Object.keys(zip.files).sort(), [
      "metadata.json",
      "model.json",
      "weights.bin",
    ]);
    const { model: loaded, metadata } = await loadModelZip(path);
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

Deno.test("loading a missing or damaged model zip fails with one clear sentence", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => loadModelZip(join(dir, "nope.zip")),
      /nope\.zip does not exist; train a model first \(notebook 03-train saves one where 04-evaluate looks; deno task train writes one into its --out folder\) or pass the path of a model\.zip\.$/,
    );
    await assert.rejects(
      () => loadModelZip(dir),
      /cannot be read \(.+\); pass the path of a model\.zip\.$/,
    );
    await Deno.writeTextFile(join(dir, "bad.zip"), "not a zip");
    await assert.rejects(
      () => loadModelZip(join(dir, "bad.zip")),
      /is not a valid zip file/,
    );
    const zip = new JSZip();
    zip.file("model.json", "{}");
    await Deno.writeFile(
      join(dir, "part.zip"),
      await zip.generateAsync({ type: "uint8array" }),
    );
    await assert.rejects(
      () => loadModelZip(join(dir, "part.zip")),
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

/** The three members of a model zip just saved from a fresh model. */
async function modelZipMembers(): Promise<Record<string, Uint8Array>> {
  const dir = await Deno.makeTempDir();
  try {
    const model = buildMiniVGGNet({ seed: 4 });
    const zip = await JSZip.loadAsync(
      await saveModelZip(model, join(dir, "model.zip"), {
        classNames: CLASS_NAMES,
      }),
    );
    model.dispose();
    const out: Record<string, Uint8Array> = {};
    for (const name of ["model.json", "weights.bin", "metadata.json"]) {
      out[name] = await zip.file(name)!.async("uint8array");
    }
    return out;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Asserts `load` fails with a one-sentence ModelZipError naming `path` and
 * matching every pattern.
 */
async function assertRefused(
  load: () => Promise<unknown>,
  path: string,
  ...patterns: RegExp[]
): Promise<void> {
  await assert.rejects(load, (e) => {
    assert.ok(e instanceof ModelZipError, `ModelZipError expected, got ${e}`);
    for (const p of patterns) assert.match(e.message, p);
    assert.ok(e.message.includes(path), `${e.message} does not name ${path}`);
    assert.doesNotMatch(e.message, /\n|SyntaxError|TypeError|RangeError/);
    assert.match(e.message, /\.$/);
    return true;
  });
}

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("a model.zip with bad contents is refused with one sentence naming the zip and the member", async () => {
  const real = await modelZipMembers();
  const dir = await Deno.makeTempDir();
  /** A zip of the real members, some replaced (or removed, as null). */
  const honest = Object.keys(real).map((n) => member(n, real[n]));
  const zipOf = (
    name: string,
    replace: Record<string, Uint8Array | null> = {},
  ) => {
    const members = honest
      .filter((m) => replace[m.name] !== null)
      .map((m) => replace[m.name] ? member(m.name, replace[m.name]!) : m);
    const path = join(dir, name);
    Deno.writeFileSync(path, buildZip(members));
    return path;
  };
  const modelJson = JSON.parse(new TextDecoder().decode(real["model.json"]));
  const withJson = (change: (j: Record<string, unknown>) => void) => {
    const j = structuredClone(modelJson);
    change(j);
    return text(JSON.stringify(j));
  };
  const w = real["weights.bin"];
  const fix =
    /; use the model\.zip a training run wrote \(deno task train\) or re-export the model with saveModelZip\.$/;
  try {
    // A zip written by hand from the real members loads: the reader is sound.
    const good = zipOf("good.zip");
    const { model, metadata } = await loadModelZip(good);
    assert.deepEqual(metadata.classNames, [...CLASS_NAMES]);
    model.dispose();

    const cases: [string, string, RegExp][] = [
      [
        zipOf("text.zip", { "model.json": text("{ not json") }),
        "model.json",
        /^model\.json in \S+ is not valid JSON;/,
      ],
      [
        zipOf("keras.zip", {
          "model.json": withJson((j) => delete j.modelTopology),
        }),
        "model.json",
        /is not a TensorFlow\.js Layers model \(it has no modelTopology\)/,
      ],
      [
        zipOf("nomanifest.zip", {
          "model.json": withJson((j) => delete j.weightsManifest),
        }),
        "model.json",
        /^model\.json in \S+ has no weightsManifest listing the model's weights/,
      ],
      [
        zipOf("badspec.zip", {
          "model.json": withJson((j) => {
            const m = j.weightsManifest as { weights: { dtype: string }[] }[];
            m[0].weights[0].dtype = "complex128";
          }),
        }),
        "model.json",
        /lists weight \S+ without a valid name, shape and dtype/,
      ],
      [
        zipOf("layer.zip", {
          "model.json": text(
            new TextDecoder().decode(real["model.json"]).replace(
              '"class_name":"Conv2D"',
              '"class_name":"FancyConv2D"',
            ),
          ),
        }),
        "model.json",
        /^model\.json in \S+ uses the layer class FancyConv2D, which this program does not know;/,
      ],
      [
        zipOf("short.zip", { "weights.bin": w.subarray(0, w.length - 4) }),
        "weights.bin",
        /^weights\.bin in \S+ holds 6,716,324 bytes but the weights model\.json lists need 6,716,328 bytes, so it is truncated/,
      ],
      [
        zipOf("long.zip", { "weights.bin": concat([w, new Uint8Array(8)]) }),
        "weights.bin",
        /^weights\.bin in \S+ holds 6,716,336 bytes, 8 bytes more than the weights model\.json lists/,
      ],
      [
        zipOf("null.zip", { "metadata.json": text("null") }),
        "metadata.json",
        /^metadata\.json in \S+ holds null instead of an object with the model's classNames;/,
      ],
      [
        zipOf("list.zip", { "metadata.json": text("[1, 2]") }),
        "metadata.json",
        /holds a list instead of an object/,
      ],
      [
        zipOf("number.zip", { "metadata.json": text("42") }),
        "metadata.json",
        /holds a number instead of an object/,
      ],
      [
        zipOf("nonames.zip", { "metadata.json": text('{"classNames": 3}') }),
        "metadata.json",
        /has no classNames list of strings/,
      ],
      [
        zipOf("twonames.zip", {
          "metadata.json": text('{"classNames": ["a", "b"]}'),
        }),
        "metadata.json",
        /lists 2 class names but the model has 10 outputs/,
      ],
      [
        zipOf("nometa.zip", { "metadata.json": null }),
        "metadata.json",
        /has no metadata\.json; use the model\.zip a training run wrote\.$/,
      ],
    ];
    for (const [path, name, pattern] of cases) {
      await assertRefused(
        () => loadModelZip(path),
        path,
        pattern,
        new RegExp(name.replace(".", "\\.")),
        name === "metadata.json" && /nometa/.test(path) ? /\.$/ : fix,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a model.zip's structure is checked before anything is inflated", async () => {
  const real = await modelZipMembers();
  const dir = await Deno.makeTempDir();
  const write = (name: string, members: ZipMember[]) => {
    const path = join(dir, name);
    Deno.writeFileSync(path, buildZip(members));
    return path;
  };
  const honest = Object.keys(real).map((n) => member(n, real[n]));
  const MIB = 2 ** 20;
  try {
    const cases: [string, RegExp][] = [
      [
        write("many.zip", [
          ...honest,
          ...Array.from({ length: 62 }, (_, i) => member(`x${i}`, text(""))),
        ]),
        /holds 65 files, more than the 64 a model\.zip may have/,
      ],
      [
        write("twice.zip", [...honest, member("weights.bin", text(""))]),
        /holds two files named weights\.bin/,
      ],
      [
        // 20 MiB of zeros in 20 KB: within the size limits, not the ratio.
        write("ratio.zip", [
          ...honest.slice(0, 2),
          {
            name: "padding.bin",
            data: zerosDeflateRaw(20 * MIB),
            size: 20 * MIB,
          },
        ]),
        /^padding\.bin in \S+ would inflate 1011 times over, more than the 100 times a model file compresses by/,
      ],
      [
        // Declared 30 MiB each at 75 : 1 (never inflated).
        write("total.zip", [
          ...honest,
          ...["a", "b", "c"].map((n) => ({
            name: `${n}.bin`,
            data: new Uint8Array(0.4 * MIB),
            size: 30 * MIB,
          })),
        ]),
        /would inflate to 96\.4 MiB, more than the 64 MiB a model\.zip may hold/,
      ],
      [
        write("crc.zip", [
          honest[0],
          { ...honest[1], crc: honest[1].crc! ^ 1 },
          honest[2],
        ]),
        /^weights\.bin in \S+ is damaged \(its CRC-32 does not match\)/,
      ],
      [
        write("short-data.zip", [
          honest[0],
          { ...honest[1], size: honest[1].size + 100 },
          honest[2],
        ]),
        /^weights\.bin in \S+ is damaged \(it inflates to 6,716,328 bytes, not the 6,716,428 bytes its zip header declares\)/,
      ],
      [
        write("bzip2.zip", [
          { ...honest[0], method: 12 as 8 },
          ...honest.slice(1),
        ]),
        /^model\.json in \S+ is compressed with method 12, which this program does not read/,
      ],
    ];
    for (const [path, pattern] of cases) {
      await assertRefused(() => loadModelZip(path), path, pattern);
    }
    // A file larger than any model.zip is not read at all (a sparse file).
    const big = join(dir, "big.zip");
    Deno.writeFileSync(big, new Uint8Array());
    Deno.truncateSync(big, 66 * MIB);
    await assertRefused(
      () => loadModelZip(big),
      big,
      /is larger than 65 MiB, more than a model\.zip may be, so it was not read/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a model folder with bad contents is refused with one sentence naming the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const model = buildMiniVGGNet({ seed: 6 });
    const good = join(dir, "good");
    await saveModelDir(model, good);
    model.dispose();
    const modelJson = await Deno.readTextFile(join(good, "model.json"));
    const weights = await Deno.readFile(join(good, "weights.bin"));
    const folder = (
      name: string,
      json: string,
      files: Record<string, Uint8Array> = { "weights.bin": weights },
    ) => {
      const path = join(dir, name);
      Deno.mkdirSync(path);
      Deno.writeTextFileSync(join(path, "model.json"), json);
      for (const [f, bytes] of Object.entries(files)) {
        Deno.writeFileSync(join(path, f), bytes);
      }
      return path;
    };
    const fix =
      /; use the model folder a training run wrote \(deno task train\) or re-save the model with saveModelDir\.$/;
    const outside = modelJson.replace("./weights.bin", "../good/weights.bin");
    const cases: [string, string, RegExp][] = [
      [
        folder("text", "{ nope"),
        "model.json",
        /model\.json is not valid JSON;/,
      ],
      [
        folder("short", modelJson, { "weights.bin": weights.subarray(4) }),
        "weights.bin",
        /weights\.bin holds 6,716,324 bytes but the weights model\.json lists need 6,716,328 bytes/,
      ],
      [
        folder("missing", modelJson, {}),
        "weights.bin",
        /weights\.bin, a weights file model\.json lists, cannot be read \(there is no such file\)/,
      ],
      [
        folder("outside", outside),
        "model.json",
        /model\.json lists the weights file \.\.\/good\/weights\.bin, which is outside its folder/,
      ],
    ];
    for (const [path, name, pattern] of cases) {
      await assertRefused(
        () => loadModelDir(path),
        join(path, name),
        pattern,
        fix,
      );
    }
    // Files too large are not read (sparse files).
    const huge = folder("huge", modelJson, {});
    Deno.writeFileSync(join(huge, "weights.bin"), new Uint8Array());
    Deno.truncateSync(join(huge, "weights.bin"), 33 * 2 ** 20);
    await assertRefused(
      () => loadModelDir(huge),
      join(huge, "weights.bin"),
      /is larger than 32 MiB, more than a model's weights file may be/,
    );
    Deno.truncateSync(join(huge, "model.json"), 5 * 2 ** 20);
    await assertRefused(
      () => loadModelDir(huge),
      join(huge, "model.json"),
      /is larger than 4 MiB, more than any model\.json/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("modelMetadata describes the model for whoever loads the zip", () => {
  const m = modelMetadata({ recipe: { name: "fast" }, metrics: { acc: 0.9 } });
  assert.deepEqual(m.classNames, CLASS_NAMES);
  assert.equal(m.classNames[9], "Ankle boot");
  assert.deepEqual(m.input, { shape: [28, 28, 1], dtype: "float32" });
  assert.match(m.preprocessing!, /^28×28 grayscale/);
  assert.deepEqual(m.recipe, { name: "fast" });
  assert.deepEqual(m.metrics, { acc: 0.9 });
  assert.equal(m.versions?.tfjs, "4.22.0");
  assert.equal(m.versions?.deno, Deno.version.deno);
  const own = modelMetadata({ classNames: ["a", "b"] });
  assert.deepEqual(own.classNames, ["a", "b"]);
});
