import assert from "node:assert/strict";
import { join } from "node:path";
import {
  describeSettings,
  FAST_RECIPE,
  limitSplits,
  notebookSettings,
  SEED_RECIPE,
  type Split,
} from "../lib/mod.ts";
import { NOTEBOOK_OUT_DIR, QUICK_EPOCHS } from "../lib/settings.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];

function split(count: number): Split {
  const images = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 10;
    images[i * 784] = i % 256;
  }
  return { images, labels, count };
}

Deno.test("by default the notebooks use all data and the fast recipe; the notebook picks another", () => {
  const s = notebookSettings({}, env({}));
  assert.equal(s.quick, false);
  assert.equal(s.trainLimit, null);
  assert.equal(s.testLimit, null);
  assert.deepEqual(s.recipe, FAST_RECIPE);
  assert.equal(s.epochs, FAST_RECIPE.epochs);
  assert.equal(s.seed, 42);
  assert.equal(s.outDir, NOTEBOOK_OUT_DIR);
  assert.equal(s.modelPath, join(NOTEBOOK_OUT_DIR, "model.zip"));
  assert.equal(
    describeSettings(s),
    "full run: all 60,000 training and 10,000 test images, fast recipe, 5 epochs, seed 42",
  );
  const seed = notebookSettings({ recipe: "seed" }, env({}));
  assert.deepEqual(seed.recipe, SEED_RECIPE);
  assert.equal(seed.epochs, 25);
  // The environment overrides the notebook's choice, for headless runs.
  const best = notebookSettings(
    { recipe: "seed" },
    env({ FMNIST_RECIPE: "best" }),
  );
  assert.equal(best.recipe.name, "best");
  assert.throws(
    () => notebookSettings({}, env({ FMNIST_RECIPE: "turbo" })),
    /^Error: FMNIST_RECIPE: there is no recipe "turbo"; choose one of seed, fast, best\.$/,
  );
  assert.throws(
    () => notebookSettings({ recipe: "turbo" }, env({})),
    /^Error: there is no recipe "turbo"/,
  );
  // Empty counts as unset.
  assert.equal(notebookSettings({}, env({ FMNIST_LIMIT: " " })).quick, false);
});

Deno.test("FMNIST_LIMIT=N: first N training and test images (test at most 10,000), the recipe's epochs (4 for the seed's)", () => {
  const s = notebookSettings({}, env({ FMNIST_LIMIT: "2000" }));
  assert.deepEqual(
    [s.quick, s.trainLimit, s.testLimit, s.epochs, s.recipe.epochs],
    [true, 2000, 2000, 5, 5],
  );
  assert.match(
    describeSettings(s),
    /FMNIST_LIMIT=2000.*2,000 training and 2,000 test images, fast recipe, 5 epochs/,
  );
  const seed = notebookSettings({ recipe: "seed", limit: 2000 }, env({}));
  assert.deepEqual([seed.quick, seed.epochs], [true, QUICK_EPOCHS]);
  assert.equal(QUICK_EPOCHS, 4);
  const big = notebookSettings({}, env({ FMNIST_LIMIT: "30000" }));
  assert.equal(big.trainLimit, 30000);
  assert.equal(big.testLimit, 10000);
});

Deno.test("FMNIST_EPOCHS overrides either default; FMNIST_OUT moves the model", () => {
  assert.equal(notebookSettings({}, env({ FMNIST_EPOCHS: "3" })).epochs, 3);
  assert.equal(
    notebookSettings({}, env({ FMNIST_EPOCHS: "3" })).recipe.epochs,
    3,
  );
  assert.equal(notebookSettings({ epochs: 2 }, env({})).epochs, 2);
  assert.equal(
    notebookSettings({}, env({ FMNIST_LIMIT: "100", FMNIST_EPOCHS: "5" }))
      .epochs,
    5,
  );
  const s = notebookSettings({}, env({ FMNIST_OUT: "/tmp/nb-run" }));
  assert.equal(s.modelPath, join("/tmp/nb-run", "model.zip"));
});

Deno.test("a bad knob value is one sentence naming the variable", () => {
  for (const bad of ["abc", "0", "-5", "2.5", "1e3"]) {
    assert.throws(
      () => notebookSettings({}, env({ FMNIST_LIMIT: bad })),
      (e: Error) =>
        /^FMNIST_LIMIT must be a positive whole number, got "[^"]*"; unset it for the full run\.$/
          .test(e.message),
      bad,
    );
  }
  assert.throws(
    () => notebookSettings({}, env({ FMNIST_EPOCHS: "x" })),
    /FMNIST_EPOCHS must be a positive whole number/,
  );
});

Deno.test("the knob is read from the environment", () => {
  const before = Deno.env.get("FMNIST_LIMIT");
  try {
    Deno.env.set("FMNIST_LIMIT", "123");
    assert.equal(notebookSettings().trainLimit, 123);
  } finally {
    if (before === undefined) Deno.env.delete("FMNIST_LIMIT");
    else Deno.env.set("FMNIST_LIMIT", before);
  }
});

Deno.test("limitSplits keeps the first images of each split, or all", () => {
  const data = { train: split(50), test: split(20) };
  const quick = limitSplits(data, { trainLimit: 30, testLimit: 10 });
  assert.equal(quick.train.count, 30);
  assert.equal(quick.test.count, 10);
  assert.equal(quick.train.images.length, 30 * 784);
  assert.deepEqual(quick.test.labels, data.test.labels.subarray(0, 10));
  const full = limitSplits(data, { trainLimit: null, testLimit: null });
  assert.equal(full.train, data.train);
  assert.equal(full.test, data.test);
  // A limit above the split's size keeps everything.
  assert.equal(
    limitSplits(data, { trainLimit: 999, testLimit: 999 }).test.count,
    20,
  );
});
