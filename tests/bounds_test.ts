/**
 * Hostile model files and pictures are refused with one sentence naming the
 * file, and cheaply: each is loaded in its own process, which reports its
 * peak resident memory. Before these bounds, the 3 MB zip below took
 * 3.3 GB, the 8 MB one 6.1 GB (and loaded), the model.json zips 1.3 GB,
 * the greedy model.json 7.2 GB, the 130 KB PNG 2.8 GB and the 611-byte JPEG
 * 1.6 GB.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import JSZip from "jszip";
import {
  buildMiniVGGNet,
  CLASS_NAMES,
  initWasmBackend,
  saveModelZip,
} from "../lib/mod.ts";
import {
  blackPng,
  buildZip,
  concat,
  deflateRawOpen,
  jpegClaiming,
  member,
  zerosDeflateRaw,
  type ZipMember,
} from "./fixtures/bombs.ts";
import { ROOT } from "./paths.ts";

await initWasmBackend();

const GIB = 2 ** 30;
/** Peak resident memory allowed to a process loading one hostile file. */
const PEAK_MB = 400;
const CHILD = join(ROOT, "tests", "fixtures", "load_bounded.ts");

/** The three members of a real model zip, from a freshly built model. */
async function realMembers(): Promise<Record<string, Uint8Array>> {
  const dir = await Deno.makeTempDir();
  try {
    const model = buildMiniVGGNet({ seed: 5 });
    const bytes = await saveModelZip(model, join(dir, "model.zip"), {
      classNames: CLASS_NAMES,
    });
    model.dispose();
    const zip = await JSZip.loadAsync(bytes);
    const out: Record<string, Uint8Array> = {};
    for (const name of ["model.json", "weights.bin", "metadata.json"]) {
      out[name] = await zip.file(name)!.async("uint8array");
    }
    return out;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Loads `path` as `kind` in a fresh process: its error and peak memory. */
async function loadInChild(
  kind: "zip" | "dir" | "image",
  path: string,
  backend: "cpu" | "wasm",
): Promise<{ error: string | null; peakMB: number }> {
  const out = await new Deno.Command(Deno.execPath(), {
    // -A: reading /proc/self/status needs every permission.
    args: ["run", "-A", CHILD, kind, path, backend],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  assert.ok(
    out.success && text.startsWith("{"),
    `child failed: ${text} ${new TextDecoder().decode(out.stderr)}`,
  );
  return JSON.parse(text);
}

/**
 * Asserts loading `path` is refused with `message`, within PEAK_MB (on the
 * CPU backend unless `backend` asks for the library's own, WASM).
 */
async function assertRefusedCheaply(
  kind: "zip" | "dir" | "image",
  path: string,
  message: RegExp,
  backend: "cpu" | "wasm" = "cpu",
): Promise<void> {
  const { error, peakMB } = await loadInChild(kind, path, backend);
  assert.ok(error !== null, `${path} loaded`);
  assert.match(error, message);
  assert.ok(
    error.startsWith(kind === "image" ? "ImageError: " : "ModelZipError: "),
  );
  assert.ok(error.includes(path), `${error} does not name ${path}`);
  assert.doesNotMatch(error, /\n/);
  assert.match(error, /\.$/);
  assert.ok(peakMB < PEAK_MB, `${path}: peak ${peakMB} MB`);
}

Deno.test("zip bombs are refused before they take memory", async (t) => {
  const real = await realMembers();
  const dir = await Deno.makeTempDir();
  const zip = (name: string, replace: ZipMember[]) => {
    const members = ["model.json", "weights.bin", "metadata.json"].map((n) =>
      replace.find((m) => m.name === n) ?? member(n, real[n])
    );
    const path = join(dir, name);
    Deno.writeFileSync(path, buildZip(members));
    return path;
  };
  const w = real["weights.bin"];
  try {
    await t.step(
      "a 3 MB zip whose weights.bin says 6.7 MB but inflates to 3 GiB",
      async () => {
        const path = zip("liar.zip", [{
          name: "weights.bin",
          data: zerosDeflateRaw(3 * GIB),
          size: w.length,
        }]);
        assert.ok(Deno.statSync(path).size < 4e6);
        await assertRefusedCheaply(
          "zip",
          path,
          /weights\.bin in .* inflates to more than the 6\.4 MiB its zip header declares, so it was not read/,
        );
      },
    );
    await t.step(
      "an 8 MB zip of real weights plus 1.9 GiB of zeros, honestly declared",
      async () => {
        const zeros = Math.round(1.9 * GIB);
        const path = zip("padded.zip", [{
          name: "weights.bin",
          data: concat([deflateRawOpen(w), zerosDeflateRaw(zeros)]),
          size: w.length + zeros,
        }]);
        await assertRefusedCheaply(
          "zip",
          path,
          /weights\.bin in .* would inflate to 1\.9 GiB, more than the 32 MiB such a file may have/,
        );
      },
    );
    await t.step(
      "a model.json that says 10 KB and inflates to 1 GiB",
      async () => {
        const path = zip("json-liar.zip", [{
          name: "model.json",
          data: zerosDeflateRaw(GIB),
          size: real["model.json"].length,
        }]);
        await assertRefusedCheaply(
          "zip",
          path,
          /model\.json in .* inflates to more than the [\d,]+ bytes its zip header declares/,
        );
      },
    );
    await t.step("a model.json of 1 GiB, honestly declared", async () => {
      const path = zip("json-huge.zip", [{
        name: "model.json",
        data: zerosDeflateRaw(GIB),
        size: GIB,
      }]);
      await assertRefusedCheaply(
        "zip",
        path,
        /model\.json in .* would inflate to 1 GiB, more than the 4 MiB/,
      );
    });
    await t.step(
      "a few hundred bytes of model.json whose layers want 3.6 GB",
      async () => {
        const json = {
          modelTopology: {
            class_name: "Sequential",
            config: {
              name: "s",
              layers: [{
                class_name: "Dense",
                config: {
                  name: "d",
                  units: 30000,
                  use_bias: false,
                  batch_input_shape: [null, 30000],
                },
              }],
            },
          },
          format: "layers-model",
          weightsManifest: [{
            paths: ["./weights.bin"],
            weights: [{ name: "d/kernel", shape: [1, 1], dtype: "float32" }],
          }],
        };
        const folder = join(dir, "greedy");
        Deno.mkdirSync(folder);
        Deno.writeTextFileSync(
          join(folder, "model.json"),
          JSON.stringify(json),
        );
        Deno.writeFileSync(join(folder, "weights.bin"), new Uint8Array(4));
        await assertRefusedCheaply(
          "dir",
          folder,
          /model\.json describes layers with more weights than its weightsManifest lists \(at least 900,000,000 values against 1\)/,
          "wasm", // its heap filled with the layers' zeros: 7.2 GB before
        );
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("picture bombs are refused from their header", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    await t.step("a 130 KB PNG of 11,500 × 11,500 pixels", async () => {
      const path = join(dir, "wide.png");
      Deno.writeFileSync(path, blackPng(11_500, 11_500));
      await assertRefusedCheaply(
        "image",
        path,
        /wide\.png is 11,500 × 11,500 pixels \(132 megapixels\), more than the 50 megapixels this program reads/,
      );
    });
    await t.step(
      "a 611-byte JPEG whose header says 7,000 × 7,000",
      async () => {
        const path = join(dir, "liar.jpg");
        Deno.writeFileSync(path, jpegClaiming(7000, 7000));
        await assertRefusedCheaply(
          "image",
          path,
          /liar\.jpg holds \d+ bytes, too few for the 7,000 × 7,000 pixels its header declares/,
        );
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
