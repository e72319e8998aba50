/**
 * Tests for lib/data.ts.
 *
 * Synthetic IDX and gzip bytes are built in the tests; the real-data tests
 * read the Debian package `dataset-fashion-mnist` at
 * /usr/share/datasets/fashion-mnist and make their damaged copies in temp
 * dirs at run time (removed afterwards). The download test only talks to
 * 127.0.0.1:9 (nothing listens there), never to the internet.
 *
 * Run with: deno test -P tests/data_test.ts (the permissions in deno.json;
 * symbolic links are made with ln, see `symlink`).
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  CLASS_NAMES,
  classCounts,
  DataError,
  DATASET_FILES,
  type DatasetFile,
  DEBIAN_DIR,
  type FashionMnist,
  gunzip,
  IMAGE_SIZE,
  loadFashionMnist,
  parseIdx,
  PIXELS,
  PROJECT_DATA_DIR,
  sha256Hex,
  type Split,
  takeFirst,
  verifyContent,
} from "../lib/data.ts";

// ---------------------------------------------------------------- helpers

/** Builds an IDX file: big-endian magic, dims, then the payload. */
function idx(
  magic: number,
  dims: number[],
  payload: ArrayLike<number>,
): Uint8Array {
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(payload, header);
  return out;
}

/** Deterministic bytes that are not all the same. */
function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function sha256Node(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function sameBytes(a: Uint8Array, b: Uint8Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      assert.fail(`${what}: differs at byte ${i} (${a[i]} vs ${b[i]})`);
    }
  }
}

/**
 * Checks that `e` is a DataError whose message is one line and contains
 * every part; returns the message. Every DataError in this file goes
 * through here, so all of them are checked for being a single line.
 */
function checkDataError(e: unknown, parts: (string | RegExp)[]): string {
  assert.ok(
    e instanceof DataError,
    `expected a DataError, got ${e instanceof Error ? e.stack : String(e)}`,
  );
  assert.equal(e.name, "DataError");
  const msg = e.message;
  assert.ok(!msg.includes("\n"), `message is not one line: ${msg}`);
  assert.ok(!msg.includes("\r"), `message is not one line: ${msg}`);
  for (const p of parts) {
    if (typeof p === "string") {
      assert.ok(msg.includes(p), `message lacks ${JSON.stringify(p)}: ${msg}`);
    } else {
      assert.match(msg, p);
    }
  }
  return msg;
}

function throwsData(fn: () => unknown, ...parts: (string | RegExp)[]): string {
  try {
    fn();
  } catch (e) {
    return checkDataError(e, parts);
  }
  assert.fail("expected a DataError, nothing was thrown");
}

async function rejectsData(
  p: Promise<unknown>,
  ...parts: (string | RegExp)[]
): Promise<string> {
  try {
    await p;
  } catch (e) {
    return checkDataError(e, parts);
  }
  assert.fail("expected a DataError, the promise resolved");
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

const IMAGES_MAGIC = 2051;
const LABELS_MAGIC = 2049;

// ---------------------------------------------------------------- constants

Deno.test("constants: class names, sizes and the file table agree", () => {
  assert.equal(CLASS_NAMES.length, 10);
  assert.equal(CLASS_NAMES[0], "T-shirt/top");
  assert.equal(CLASS_NAMES[9], "Ankle boot");
  assert.equal(IMAGE_SIZE, 28);
  assert.equal(DEBIAN_DIR, "/usr/share/datasets/fashion-mnist");
  // data/ next to lib/, i.e. in the project root (this file is in tests/).
  assert.equal(
    PROJECT_DATA_DIR,
    fileURLToPath(new URL("../data", import.meta.url)),
  );
  assert.equal(PIXELS, 784);
  assert.deepEqual(DATASET_FILES.map((f) => f.name), [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
  ]);
  for (const f of DATASET_FILES) {
    assert.equal(f.count, f.split === "train" ? 60000 : 10000, f.name);
    const expectedBytes: number = f.kind === "images"
      ? 16 + f.count * PIXELS
      : 8 + f.count;
    assert.equal(f.bytes, expectedBytes, `${f.name}: bytes`);
    assert.match(f.sha256, /^[0-9a-f]{64}$/, `${f.name}: sha256`);
  }
});

// ---------------------------------------------------------------- parseIdx

Deno.test("parseIdx: a good images file gives its dims and payload", () => {
  const pixels = pattern(3 * PIXELS, 7);
  const parsed = parseIdx(
    idx(IMAGES_MAGIC, [3, 28, 28], pixels),
    "images",
    "imgs",
  );
  assert.equal(parsed.magic, IMAGES_MAGIC);
  assert.deepEqual(parsed.dims, [3, 28, 28]);
  assert.equal(parsed.data.length, 3 * PIXELS);
  sameBytes(parsed.data, pixels, "payload");
});

Deno.test("parseIdx: a good labels file gives its dims and payload", () => {
  const parsed = parseIdx(
    idx(LABELS_MAGIC, [4], [0, 5, 9, 3]),
    "labels",
    "lbls",
  );
  assert.equal(parsed.magic, LABELS_MAGIC);
  assert.deepEqual(parsed.dims, [4]);
  assert.deepEqual([...parsed.data], [0, 5, 9, 3]);
  // Big-endian count above 255 (bytes 0, 0, 1, 44 = 300).
  const many = parseIdx(idx(LABELS_MAGIC, [300], pattern(300)), "labels", "x");
  assert.deepEqual(many.dims, [300]);
  assert.equal(many.data.length, 300);
});

Deno.test("parseIdx: works on a view that does not start at byte 0", () => {
  const file = idx(LABELS_MAGIC, [3], [7, 8, 9]);
  const big = new Uint8Array(5 + file.length + 4).fill(0xee);
  big.set(file, 5);
  const parsed = parseIdx(
    big.subarray(5, 5 + file.length),
    "labels",
    "offset",
  );
  assert.deepEqual(parsed.dims, [3]);
  assert.deepEqual([...parsed.data], [7, 8, 9]);
});

Deno.test("parseIdx: zero items is a valid (empty) file", () => {
  const parsed = parseIdx(idx(IMAGES_MAGIC, [0, 28, 28], []), "images", "e");
  assert.deepEqual(parsed.dims, [0, 28, 28]);
  assert.equal(parsed.data.length, 0);
});

Deno.test("parseIdx: wrong magic names the file and the magic numbers", () => {
  // A labels magic in an images file (the rest of the header is fine).
  throwsData(
    () =>
      parseIdx(
        idx(LABELS_MAGIC, [1, 28, 28], new Uint8Array(PIXELS)),
        "images",
        "my-images.idx",
      ),
    "my-images.idx",
    /magic/i,
    "2049",
    "2051",
  );
  // An images magic in a labels file.
  throwsData(
    () => parseIdx(idx(IMAGES_MAGIC, [1], [0]), "labels", "my-labels.idx"),
    "my-labels.idx",
    /magic/i,
    "2051",
    "2049",
  );
  // Little-endian magic (bytes reversed) is wrong too.
  const le = idx(LABELS_MAGIC, [1], [0]);
  le.set([1, 8, 0, 0], 0);
  throwsData(
    () => parseIdx(le, "labels", "le.idx"),
    "le.idx",
    /magic/i,
  );
});

Deno.test("parseIdx: images that are not 28×28 are refused", () => {
  throwsData(
    () =>
      parseIdx(
        idx(IMAGES_MAGIC, [1, 27, 28], new Uint8Array(27 * 28)),
        "images",
        "small.idx",
      ),
    "small.idx",
    "27×28",
    "28×28",
  );
  throwsData(
    () =>
      parseIdx(
        idx(IMAGES_MAGIC, [1, 28, 27], new Uint8Array(27 * 28)),
        "images",
        "narrow.idx",
      ),
    "narrow.idx",
    "28×27",
  );
  throwsData(
    () =>
      parseIdx(
        idx(IMAGES_MAGIC, [2, 14, 56], new Uint8Array(2 * PIXELS)),
        "images",
        "same-area.idx",
      ),
    "same-area.idx",
    "14×56",
  );
});

Deno.test("parseIdx: payload size must match the header exactly", () => {
  throwsData(
    () =>
      parseIdx(
        idx(IMAGES_MAGIC, [2, 28, 28], new Uint8Array(2 * PIXELS - 1)),
        "images",
        "cut-images",
      ),
    "cut-images",
    String(2 * PIXELS),
    String(2 * PIXELS - 1),
    /truncated/,
  );
  throwsData(
    () => parseIdx(idx(LABELS_MAGIC, [5], [1, 2, 3, 4]), "labels", "cut-lbl"),
    "cut-lbl",
    /truncated/,
  );
  // Header only, no payload at all.
  throwsData(
    () => parseIdx(idx(LABELS_MAGIC, [5], []), "labels", "no-payload"),
    "no-payload",
  );
  // Extra bytes after the payload are also wrong.
  throwsData(
    () =>
      parseIdx(
        idx(LABELS_MAGIC, [3], [1, 2, 3, 4]),
        "labels",
        "long-lbl",
      ),
    "long-lbl",
  );
});

Deno.test("parseIdx: a header that is too short is refused", () => {
  // Images need 16 header bytes, labels 8.
  const imagesHeader = idx(IMAGES_MAGIC, [0, 28, 28], []);
  for (const n of [0, 3, 4, 8, 15]) {
    throwsData(
      () => parseIdx(imagesHeader.subarray(0, n), "images", `img-${n}`),
      `img-${n}`,
      /too short/,
      `${n} bytes`,
    );
  }
  const labelsHeader = idx(LABELS_MAGIC, [0], []);
  for (const n of [0, 2, 7]) {
    throwsData(
      () => parseIdx(labelsHeader.subarray(0, n), "labels", `lbl-${n}`),
      `lbl-${n}`,
      /too short/,
    );
  }
});

// ---------------------------------------------------------------- gunzip

Deno.test("gunzip: round-trips node:zlib gzipSync output", async () => {
  for (const data of [pattern(200_000, 3), new Uint8Array(0), pattern(1)]) {
    const back = await gunzip(gzipSync(data), "rt.gz");
    assert.ok(back instanceof Uint8Array);
    sameBytes(back, data, `round trip of ${data.length} bytes`);
  }
  // Compressible data (long runs) too.
  const runs = new Uint8Array(100_000).fill(42);
  sameBytes(await gunzip(gzipSync(runs, { level: 9 }), "runs.gz"), runs, "r");
});

Deno.test("gunzip: truncated gzip is a DataError naming the file", async () => {
  const gz = gzipSync(pattern(50_000, 9));
  for (const n of [gz.length - 1, gz.length - 8, gz.length >> 1, 10, 2, 0]) {
    await rejectsData(
      gunzip(gz.subarray(0, n), "cut.gz"),
      "cut.gz",
      "not a valid gzip",
    );
  }
});

Deno.test("gunzip: garbage and damaged gzip are DataErrors", async () => {
  await rejectsData(
    gunzip(new TextEncoder().encode("this is not gzip at all"), "text.gz"),
    "text.gz",
    "not a valid gzip",
  );
  await rejectsData(
    gunzip(pattern(4096, 5), "random.gz"),
    "random.gz",
    "not a valid gzip",
  );
  // An uncompressed IDX file is not gzip.
  await rejectsData(
    gunzip(idx(LABELS_MAGIC, [2], [1, 2]), "plain.gz"),
    "plain.gz",
    "not a valid gzip",
  );
  // A flipped bit in the CRC-32 trailer.
  const gz = gzipSync(pattern(1000, 2));
  const bad = new Uint8Array(gz);
  bad[bad.length - 6] ^= 1;
  await rejectsData(gunzip(bad, "crc.gz"), "crc.gz", "not a valid gzip");
});

// ---------------------------------------------------------------- verifyContent

function fakeSpec(
  kind: "images" | "labels",
  count: number,
  content: Uint8Array,
): DatasetFile {
  return {
    name: `fake-${kind}`,
    kind,
    split: "test",
    count,
    bytes: content.length,
    sha256: sha256Node(content),
  };
}

Deno.test("sha256Hex matches node:crypto", async () => {
  assert.equal(
    await sha256Hex(new Uint8Array()),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  const data = pattern(10_000, 4);
  assert.equal(await sha256Hex(data), sha256Node(data));
  assert.equal(
    await sha256Hex(data.subarray(100, 300)),
    sha256Node(data.subarray(100, 300)),
  );
});

Deno.test("verifyContent: good synthetic content returns the payload", async () => {
  const labels = idx(LABELS_MAGIC, [6], [0, 1, 9, 4, 4, 2]);
  const got = await verifyContent(labels, fakeSpec("labels", 6, labels), "l");
  assert.deepEqual([...got], [0, 1, 9, 4, 4, 2]);

  const pixels = pattern(2 * PIXELS, 11);
  const images = idx(IMAGES_MAGIC, [2, 28, 28], pixels);
  const px = await verifyContent(images, fakeSpec("images", 2, images), "i");
  sameBytes(px, pixels, "pixels");
});

Deno.test("verifyContent: wrong item count is a DataError", async () => {
  const labels = idx(LABELS_MAGIC, [5], [0, 1, 2, 3, 4]);
  // The hash matches, only the count is wrong.
  const spec = { ...fakeSpec("labels", 5, labels), count: 4 };
  await rejectsData(
    verifyContent(labels, spec, "count.idx"),
    "count.idx",
    "holds 5",
    "holds 4",
  );
  const images = idx(IMAGES_MAGIC, [1, 28, 28], new Uint8Array(PIXELS));
  await rejectsData(
    verifyContent(images, { ...fakeSpec("images", 1, images), count: 2 }, "c"),
    "c holds 1 images",
  );
});

Deno.test("verifyContent: a label above 9 is named with its item", async () => {
  const labels = idx(LABELS_MAGIC, [5], [0, 9, 3, 10, 1]);
  await rejectsData(
    verifyContent(labels, fakeSpec("labels", 5, labels), "bad-label.idx"),
    "bad-label.idx",
    "label 10",
    "item 3",
    "0–9",
  );
  const l255 = idx(LABELS_MAGIC, [2], [255, 0]);
  await rejectsData(
    verifyContent(l255, fakeSpec("labels", 2, l255), "x"),
    "label 255",
    "item 0",
  );
});

Deno.test("verifyContent: a checksum mismatch says so", async () => {
  const labels = idx(LABELS_MAGIC, [3], [1, 2, 3]);
  const spec = fakeSpec("labels", 3, labels);
  const changed = idx(LABELS_MAGIC, [3], [1, 2, 4]); // still valid labels
  await rejectsData(
    verifyContent(changed, spec, "sum.idx"),
    "sum.idx",
    "checksum mismatch",
    spec.sha256,
    sha256Node(changed),
  );
  const images = idx(IMAGES_MAGIC, [1, 28, 28], pattern(PIXELS));
  await rejectsData(
    verifyContent(
      images,
      { ...fakeSpec("images", 1, images), sha256: "0".repeat(64) },
      "img-sum",
    ),
    "img-sum",
    "checksum mismatch",
  );
});

Deno.test("verifyContent: structural problems come from parseIdx", async () => {
  // A labels file (long enough to have an images header) checked as images.
  const labels = idx(LABELS_MAGIC, [20], pattern(20).map((b) => b % 10));
  await rejectsData(
    verifyContent(labels, { ...fakeSpec("images", 20, labels) }, "kind.idx"),
    "kind.idx",
    /magic/,
  );
});

// ---------------------------------------------------------------- takeFirst, classCounts

function fakeSplit(labels: number[]): Split {
  return {
    images: pattern(labels.length * PIXELS, 13),
    labels: Uint8Array.from(labels),
    count: labels.length,
  };
}

Deno.test("takeFirst: views of the right length, clamped", () => {
  const split = fakeSplit([3, 1, 4, 1, 5]);
  const two = takeFirst(split, 2);
  assert.equal(two.count, 2);
  assert.equal(two.images.length, 2 * PIXELS);
  assert.deepEqual([...two.labels], [3, 1]);
  sameBytes(two.images, split.images.subarray(0, 2 * PIXELS), "images");
  // A view, not a copy.
  assert.equal(two.images.buffer, split.images.buffer);
  assert.equal(two.labels.buffer, split.labels.buffer);
  split.labels[0] = 7;
  assert.equal(two.labels[0], 7);

  assert.equal(takeFirst(split, 99).count, 5);
  assert.equal(takeFirst(split, 99).images.length, 5 * PIXELS);
  assert.equal(takeFirst(split, 2.9).count, 2);
  assert.equal(takeFirst(split, 2.9).labels.length, 2);
  const none = takeFirst(split, -3);
  assert.equal(none.count, 0);
  assert.equal(none.images.length, 0);
  assert.equal(none.labels.length, 0);
});

Deno.test("classCounts counts each label", () => {
  assert.deepEqual(
    classCounts(fakeSplit([0, 9, 9, 2, 0, 9])),
    [2, 0, 1, 0, 0, 0, 0, 0, 0, 3],
  );
  assert.deepEqual(classCounts(fakeSplit([1, 0, 1]), 2), [1, 2]);
  assert.deepEqual(classCounts(fakeSplit([])), new Array(10).fill(0));
});

// ---------------------------------------------------------------- download path, offline

const DEAD_MIRROR = "http://127.0.0.1:9/"; // discard port: nothing listens

Deno.test("download: unreachable mirror gives the three ways to get the data", async () => {
  const empty = await Deno.makeTempDir({ prefix: "fmnist-empty-" });
  const downloads = await Deno.makeTempDir({ prefix: "fmnist-dl-" });
  const progress: string[] = [];
  try {
    const nested = join(downloads, "not-yet");
    for (const downloadDir of [downloads, nested]) {
      const msg = await rejectsData(
        loadFashionMnist({
          searchDirs: [empty],
          downloadDir,
          mirrors: [DEAD_MIRROR],
          onProgress: (m) => progress.push(m),
        }),
        "apt-get install dataset-fashion-mnist",
        "data/",
        "--data-dir",
        "127.0.0.1:9",
      );
      assert.match(msg, /could not be downloaded/);
    }
    // Nothing written: no file, no partial file, not even the nested dir.
    assert.deepEqual(await listDir(downloads), []);
    assert.deepEqual(await listDir(empty), []);
    assert.ok(progress.some((m) => m.includes(DEAD_MIRROR)), progress.join());
  } finally {
    await Deno.remove(empty, { recursive: true });
    await Deno.remove(downloads, { recursive: true });
  }
});

Deno.test("download: false with nothing found is a DataError", async () => {
  const empty = await Deno.makeTempDir({ prefix: "fmnist-empty-" });
  const other = await Deno.makeTempDir({ prefix: "fmnist-empty2-" });
  const downloads = await Deno.makeTempDir({ prefix: "fmnist-dl-" });
  try {
    await rejectsData(
      loadFashionMnist({
        searchDirs: [empty, other],
        download: false,
        downloadDir: downloads,
        mirrors: [DEAD_MIRROR],
      }),
      empty,
      other,
      "apt-get install dataset-fashion-mnist",
      "data/",
      "--data-dir",
    );
    assert.deepEqual(await listDir(downloads), []);
    // An incomplete dir (3 of 4 files) does not count as found.
    for (const spec of DATASET_FILES.slice(0, 3)) {
      await Deno.writeFile(
        join(empty, spec.name + ".gz"),
        gzipSync(pattern(9)),
      );
    }
    const notes: string[] = [];
    await rejectsData(
      loadFashionMnist({
        searchDirs: [empty],
        download: false,
        onProgress: (m) => notes.push(m),
      }),
      "was not found in",
      empty,
    );
    // It is skipped with a note naming the missing file.
    assert.deepEqual(notes, [
      `skipping ${empty}: ${
        join(empty, "t10k-labels-idx1-ubyte")
      }(.gz) is missing (3 of the 4 files are there).`,
    ]);
    // An explicit dataDir is used alone and never falls back.
    await rejectsData(
      loadFashionMnist({ dataDir: other, mirrors: [DEAD_MIRROR] }),
      join(other, "train-images-idx3-ubyte"),
      "missing",
    );
  } finally {
    for (const d of [empty, other, downloads]) {
      await Deno.remove(d, { recursive: true });
    }
  }
});

// ---------------------------------------------------------------- unreadable sources

/**
 * A temp folder with all four files as small stand-ins (their content is
 * never read when the test is about one that cannot be), then `bad` in
 * place of the train images file.
 */
async function folderWith(
  bad: (path: string) => Promise<void>,
): Promise<{ dir: string; path: string }> {
  const dir = await Deno.makeTempDir({ prefix: "fmnist-unreadable-" });
  for (const spec of DATASET_FILES.slice(1)) {
    await Deno.writeFile(join(dir, spec.name + ".gz"), gzipSync(pattern(9)));
  }
  const path = join(dir, "train-images-idx3-ubyte.gz");
  await bad(path);
  return { dir, path };
}

/**
 * Makes a symbolic link with ln(1): `Deno.symlink` needs unscoped read and
 * write permissions, more than the tests' (deno.json) grant.
 */
async function symlink(target: string, path: string): Promise<void> {
  const r = await new Deno.Command("ln", {
    args: ["-s", target, path],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
}

const SYMLINK_LOOP = async (path: string) => {
  // a -> b -> a
  await symlink(path + ".loop", path);
  await symlink(path, path + ".loop");
};

/**
 * Checks that `dir`, with the file at `path` unusable in the way `why`
 * says, is skipped with one note in a search (here, the only folder, so
 * the load fails saying what was skipped), and is one sentence naming the
 * file as an explicit `dataDir`. Returns that sentence.
 */
async function checkUnusable(
  dir: string,
  path: string,
  why: string,
): Promise<string> {
  const empty = await Deno.makeTempDir({ prefix: "fmnist-empty-" });
  try {
    const notes: string[] = [];
    await rejectsData(
      loadFashionMnist({
        searchDirs: [dir, empty],
        download: false,
        onProgress: (m) => notes.push(m),
      }),
      "was not found in",
      `skipped: ${path} ${why}`,
    );
    // (A file that fails when read, not when looked up, comes after the
    // progress line "reading Fashion-MNIST from DIR".)
    assert.deepEqual(notes.filter((m) => !m.startsWith("reading ")), [
      `skipping ${dir}: ${path} ${why}; trying ${empty}.`,
    ]);
    return await rejectsData(
      loadFashionMnist({ dataDir: dir, mirrors: [DEAD_MIRROR] }),
      new RegExp(`^${RegExp.escape(`${path} ${why}; `)}[^;]+\\.$`),
    );
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
}

Deno.test("unreadable sources: a symbolic link loop falls back to the next source", async () => {
  // Three real files and a loop where the train images should be.
  const dir = await Deno.makeTempDir({ prefix: "fmnist-loop-" });
  try {
    for (const spec of DATASET_FILES.slice(1)) {
      await symlink(
        join(DEBIAN_DIR, spec.name + ".gz"),
        join(dir, spec.name + ".gz"),
      );
    }
    const path = join(dir, "train-images-idx3-ubyte.gz");
    await SYMLINK_LOOP(path);
    const why = "is a symbolic link loop (too many levels of symbolic links)";
    const progress: string[] = [];
    const ds = await loadFashionMnist({
      searchDirs: [dir, DEBIAN_DIR],
      download: false,
      onProgress: (m) => progress.push(m),
    });
    assert.equal(ds.source, DEBIAN_DIR);
    assert.equal(ds.train.count, 60000);
    assert.deepEqual(progress, [
      `skipping ${dir}: ${path} ${why}; trying ${DEBIAN_DIR}.`,
      `reading Fashion-MNIST from ${DEBIAN_DIR}`,
    ]);
    const msg = await checkUnusable(dir, path, why);
    assert.equal(msg, `${path} ${why}; replace it with the official file.`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unreadable sources: a directory where a file should be", async () => {
  const { dir, path } = await folderWith((p) => Deno.mkdir(p));
  try {
    assert.equal(
      await checkUnusable(dir, path, "is a directory, not a file"),
      `${path} is a directory, not a file; replace it with the official file.`,
    );
    // A directory under the uncompressed name does not hide a .gz file:
    // the .gz is read (and its stand-in content refused).
    await Deno.remove(path);
    await Deno.writeFile(path, gzipSync(pattern(9)));
    await Deno.mkdir(join(dir, "train-images-idx3-ubyte"));
    await rejectsData(
      loadFashionMnist({ dataDir: dir, download: false }),
      path,
      "too short",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unreadable sources: a symbolic link to nothing", async () => {
  const { dir, path } = await folderWith((p) => symlink(p + ".gone", p));
  try {
    await checkUnusable(
      dir,
      path,
      "is a symbolic link to a file that does not exist",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unreadable sources: permission denied (the reader mocked: root reads anything)", async () => {
  const { dir, path } = await folderWith((p) =>
    Deno.writeFile(p, gzipSync(pattern(9)))
  );
  const readFile = Deno.readFile;
  Deno.readFile = (p, options) =>
    String(p) === path
      ? Promise.reject(
        new Deno.errors.PermissionDenied(
          `Permission denied (os error 13): open '${path}'`,
        ),
      )
      : readFile(p, options);
  try {
    assert.equal(
      await checkUnusable(dir, path, "cannot be read (permission denied)"),
      `${path} cannot be read (permission denied); make it readable (chmod a+r) or replace it with a readable copy.`,
    );
  } finally {
    Deno.readFile = readFile;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unreadable sources: damaged content is still an error, not a fallback", async () => {
  // The stand-ins are valid gzip of the wrong bytes: read, then refused.
  const { dir } = await folderWith((p) =>
    Deno.writeFile(p, gzipSync(pattern(9)))
  );
  try {
    await rejectsData(
      loadFashionMnist({ searchDirs: [dir, DEBIAN_DIR], download: false }),
      join(dir, "train-images-idx3-ubyte.gz"),
      "too short",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unreadable sources: something in the way of a download is named before any download", async () => {
  const empty = await Deno.makeTempDir({ prefix: "fmnist-empty-" });
  const { dir, path } = await folderWith(SYMLINK_LOOP);
  try {
    await rejectsData(
      loadFashionMnist({
        searchDirs: [empty],
        downloadDir: dir,
        mirrors: [DEAD_MIRROR],
        onProgress: () => {},
      }),
      `${path} is a symbolic link loop (too many levels of symbolic links), where the download would be saved; remove it and try again.`,
    );
  } finally {
    await Deno.remove(empty, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------- real files

/** The four real files, decompressed with node:zlib (not the code under test). */
async function readRealRaw(): Promise<Map<string, Uint8Array>> {
  const raw = new Map<string, Uint8Array>();
  for (const spec of DATASET_FILES) {
    const path = join(DEBIAN_DIR, spec.name + ".gz");
    assert.ok(
      await isFile(path),
      `${path} is missing: install the Debian package dataset-fashion-mnist`,
    );
    raw.set(spec.name, gunzipSync(await Deno.readFile(path)));
  }
  return raw;
}

function checkSplitsEqual(a: FashionMnist, b: FashionMnist): void {
  assert.equal(a.train.count, b.train.count);
  assert.equal(a.test.count, b.test.count);
  sameBytes(a.train.images, b.train.images, "train images");
  sameBytes(a.train.labels, b.train.labels, "train labels");
  sameBytes(a.test.images, b.test.images, "test images");
  sameBytes(a.test.labels, b.test.labels, "test labels");
}

Deno.test("real Fashion-MNIST files", async (t) => {
  const raw = await readRealRaw();
  let fromDebian: FashionMnist | undefined;

  await t.step("the installed files are the official ones", () => {
    for (const spec of DATASET_FILES) {
      const content = raw.get(spec.name)!;
      assert.equal(content.length, spec.bytes, spec.name);
      assert.equal(sha256Node(content), spec.sha256, spec.name);
    }
    // The first test label, read straight from the file: 9 (Ankle boot).
    const t10k = raw.get("t10k-labels-idx1-ubyte")!;
    const view = new DataView(t10k.buffer, t10k.byteOffset, t10k.byteLength);
    assert.equal(view.getUint32(0), LABELS_MAGIC);
    assert.equal(view.getUint32(4), 10000);
    assert.equal(t10k[8], 9);
  });

  await t.step("explicit searchDirs reads the Debian copy", async () => {
    const empty = await Deno.makeTempDir({ prefix: "fmnist-empty-" });
    try {
      const progress: string[] = [];
      const ds = await loadFashionMnist({
        searchDirs: [empty, DEBIAN_DIR],
        download: false,
        onProgress: (m) => progress.push(m),
      });
      fromDebian = ds;
      assert.equal(ds.source, DEBIAN_DIR);
      assert.ok(progress.some((m) => m.includes(DEBIAN_DIR)), progress.join());
      assert.equal(ds.classNames, CLASS_NAMES);
      assert.equal(ds.train.count, 60000);
      assert.equal(ds.test.count, 10000);
      assert.equal(ds.train.images.length, 60000 * 784);
      assert.equal(ds.train.labels.length, 60000);
      assert.equal(ds.test.images.length, 10000 * 784);
      assert.equal(ds.test.labels.length, 10000);
      assert.deepEqual(classCounts(ds.train), new Array(10).fill(6000));
      assert.deepEqual(classCounts(ds.test), new Array(10).fill(1000));
      assert.equal(ds.test.labels[0], 9);
      assert.equal(CLASS_NAMES[ds.test.labels[0]], "Ankle boot");
      // Same bytes as an independent decompression of the files.
      sameBytes(
        ds.train.images,
        raw.get("train-images-idx3-ubyte")!.subarray(16),
        "train images",
      );
      sameBytes(
        ds.train.labels,
        raw.get("train-labels-idx1-ubyte")!.subarray(8),
        "train labels",
      );
      sameBytes(
        ds.test.images,
        raw.get("t10k-images-idx3-ubyte")!.subarray(16),
        "test images",
      );
      sameBytes(
        ds.test.labels,
        raw.get("t10k-labels-idx1-ubyte")!.subarray(8),
        "test labels",
      );
      const small = takeFirst(ds.train, 2000);
      assert.equal(small.count, 2000);
      assert.equal(small.images.length, 2000 * PIXELS);
      assert.equal(small.labels.length, 2000);
    } finally {
      await Deno.remove(empty, { recursive: true });
    }
  });

  await t.step(
    "defaults: data/ if it holds a full copy, else Debian",
    async () => {
      let dataComplete = true;
      for (const spec of DATASET_FILES) {
        const base = join(PROJECT_DATA_DIR, spec.name);
        if (!(await isFile(base)) && !(await isFile(base + ".gz"))) {
          dataComplete = false;
        }
      }
      const ds = await loadFashionMnist();
      assert.equal(ds.source, dataComplete ? PROJECT_DATA_DIR : DEBIAN_DIR);
      assert.equal(ds.train.count, 60000);
      assert.equal(ds.test.count, 10000);
      checkSplitsEqual(ds, fromDebian!);
    },
  );

  await t.step("damaged and uncompressed copies in a temp dir", async (t) => {
    // One temp dir, reused: the big files are written uncompressed (the
    // loader prefers them to .gz, and they are quicker to read), and the
    // file under test is swapped in and out.
    const dir = await Deno.makeTempDir({ prefix: "fmnist-bad-" });
    const path = (name: string) => join(dir, name);
    const write = (name: string, bytes: Uint8Array) =>
      Deno.writeFile(path(name), bytes);
    const load = () => loadFashionMnist({ dataDir: dir, download: false });
    try {
      for (
        const name of ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]
      ) {
        await write(name, raw.get(name)!);
      }
      await write(
        "t10k-images-idx3-ubyte.gz",
        await Deno.readFile(join(DEBIAN_DIR, "t10k-images-idx3-ubyte.gz")),
      );
      const labelsGz = await Deno.readFile(
        join(DEBIAN_DIR, "t10k-labels-idx1-ubyte.gz"),
      );
      const labelsName = "t10k-labels-idx1-ubyte.gz";

      await t.step("(a) a missing file is named", async () => {
        await rejectsData(
          load(),
          path("t10k-labels-idx1-ubyte"),
          "missing",
          dir,
        );
      });

      await t.step(
        "(b) a truncated .gz is named, not a valid gzip",
        async () => {
          // Cut in half, like an interrupted download.
          await write(labelsName, labelsGz.subarray(0, labelsGz.length >> 1));
          await rejectsData(load(), path(labelsName), "not a valid gzip");
        },
      );

      await t.step("(c) one changed label: checksum mismatch", async () => {
        const content = new Uint8Array(raw.get("t10k-labels-idx1-ubyte")!);
        const item = 1234;
        const old = content[8 + item];
        content[8 + item] = (old + 1) % 10; // still a valid label
        await write(labelsName, gzipSync(content));
        await rejectsData(load(), path(labelsName), "checksum mismatch");
        // A label out of range, in an uncompressed file (which the loader
        // prefers to the .gz), is named with its item.
        content[8 + item] = 10;
        await write("t10k-labels-idx1-ubyte", content);
        await rejectsData(
          load(),
          path("t10k-labels-idx1-ubyte"),
          "label 10",
          `item ${item}`,
        );
        await Deno.remove(path("t10k-labels-idx1-ubyte"));
        await write(labelsName, labelsGz);
      });

      await t.step("(d) images file with wrong magic", async () => {
        const content = new Uint8Array(raw.get("t10k-images-idx3-ubyte")!);
        new DataView(content.buffer).setUint32(0, LABELS_MAGIC);
        await write("t10k-images-idx3-ubyte", content);
        await rejectsData(
          load(),
          path("t10k-images-idx3-ubyte"),
          /magic/,
          "2049",
          "2051",
        );
        await Deno.remove(path("t10k-images-idx3-ubyte"));
      });

      await t.step(
        "(e) uncompressed files give the same data as .gz",
        async () => {
          for (
            const name of ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
          ) {
            await write(name, raw.get(name)!);
            await Deno.remove(path(name + ".gz"));
          }
          assert.deepEqual(
            await listDir(dir),
            DATASET_FILES.map((f) => f.name).sort(),
          );
          const ds = await load();
          assert.equal(ds.source, dir);
          assert.equal(ds.train.count, 60000);
          assert.equal(ds.test.count, 10000);
          checkSplitsEqual(ds, fromDebian!);
        },
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("an explicit dataDir that does not exist, or is a file, is named as such", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const gone = join(dir, "nowhere");
    await assert.rejects(
      loadFashionMnist({ dataDir: gone, download: false }),
      (e: Error) =>
        e instanceof DataError &&
        e.message ===
          `${gone} does not exist; pass a folder that holds all four Fashion-MNIST files.`,
    );
    const file = join(dir, "a-file");
    await Deno.writeTextFile(file, "x");
    await assert.rejects(
      loadFashionMnist({ dataDir: file, download: false }),
      (e: Error) =>
        e instanceof DataError &&
        e.message ===
          `${file} is a file, not a folder; pass a folder that holds all four Fashion-MNIST files.`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
