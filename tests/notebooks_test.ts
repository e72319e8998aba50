/**
 * The notebooks: committed clean, code that follows the rules and type
 * checks, and — run as a user runs them, `deno task notebooks` with the
 * quick-run knob — every one executes without error output, the charts and
 * pictures are there, and the rendered HTML draws its charts in headless
 * Chromium with the network blocked (screenshots in out/notebooks-test/).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  buildMiniVGGNet,
  compileForRecipe,
  initWasmBackend,
  MINIVGGNET_PARAMS,
  type NotebookSettings,
  type Split,
  tf,
} from "../lib/mod.ts";
import { decodePng } from "../lib/image/png.ts";
import {
  cellSource,
  cleanNotebook,
  codeRuleBreaks,
  type Notebook,
  NOTEBOOK_DIR,
  notebookCode,
  notebookProblems,
  NOTEBOOKS,
  serializeNotebook,
} from "../lib/cli/notebook_tools.ts";
import { denoFmt } from "../lib/cli/fmt.ts";
import type { PageReport } from "./browser.ts";
import type { FrontendReport } from "./jupyter/frontend.ts";
import { ROOT, toFileUrl } from "./paths.ts";

const OUT = join(ROOT, "out", "notebooks-test");

/** Renders a page offline in Chromium, in a process of its own (see browser.ts). */
async function renderOffline(html: string, shot: string): Promise<PageReport> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "tests", "browser.ts"), html, shot],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `the browser run failed: ${stderr}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

async function readNotebook(path: string): Promise<Notebook> {
  return JSON.parse(await Deno.readTextFile(path));
}

type Output = {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
};

function outputs(nb: Notebook): Array<Output & { cell: number }> {
  return nb.cells.flatMap((c, cell) =>
    (c.outputs ?? []).map((o) => ({ ...(o as Output), cell }))
  );
}

const text = (v: unknown) => Array.isArray(v) ? v.join("") : String(v ?? "");

/** An output as the front-end driver reports it: type, stream, MIME types. */
function shapeOf(o: Record<string, unknown>): string {
  const data = o.data as Record<string, unknown> | undefined;
  return `${o.output_type}${o.name ? `:${o.name}` : ""}${
    data ? `[${Object.keys(data).sort().join(",")}]` : ""
  }`;
}

Deno.test("the five notebooks are committed clean, in Jupyter's own layout", async () => {
  const files: string[] = [];
  for await (const e of Deno.readDir(NOTEBOOK_DIR)) {
    if (e.name.endsWith(".ipynb")) files.push(e.name);
  }
  assert.deepEqual(files.sort(), NOTEBOOKS.map((n) => `${n}.ipynb`));
  for (const name of NOTEBOOKS) {
    const path = join(NOTEBOOK_DIR, `${name}.ipynb`);
    const raw = await Deno.readTextFile(path);
    const nb = JSON.parse(raw) as Notebook;
    assert.deepEqual(notebookProblems(nb), [], name);
    assert.equal(
      serializeNotebook(nb),
      raw,
      `${name}: not in Jupyter's layout (run deno task notebooks:clean)`,
    );
  }
});

Deno.test("notebook code imports only lib/mod.ts, reads well (no fmt-ignore, lines ≤ 100) and defines no functions", async () => {
  for (const name of NOTEBOOKS) {
    const nb = await readNotebook(join(NOTEBOOK_DIR, `${name}.ipynb`));
    assert.deepEqual(codeRuleBreaks(nb), [], name);
    // Narrative first, and more prose than code.
    assert.equal(nb.cells[0].cell_type, "markdown");
    assert.match(cellSource(nb.cells[0]), /^# \d · /);
    const md = nb.cells.filter((c) => c.cell_type === "markdown");
    const code = nb.cells.filter((c) => c.cell_type === "code");
    assert.ok(md.length >= code.length / 2, `${name}: too little narrative`);
  }
});

Deno.test("every notebook cell is formatted as deno fmt formats it", async () => {
  // `.ipynb` files are excluded from `deno fmt --check` (Deno 2.9 reports
  // every TypeScript notebook as unformatted), so cells are checked here.
  for (const name of NOTEBOOKS) {
    const nb = await readNotebook(join(NOTEBOOK_DIR, `${name}.ipynb`));
    for (const [i, cell] of nb.cells.entries()) {
      const source = cellSource(cell);
      const ext = cell.cell_type === "code" ? "ts" : "md";
      assert.equal(
        await denoFmt(source, ext),
        source,
        `${name} cell ${
          i + 1
        } is not formatted (run deno task notebooks:clean)`,
      );
    }
  }
});

Deno.test("the notebook checks catch outputs, counts, metadata and definitions", () => {
  const dirty: Notebook = {
    cells: [
      { cell_type: "markdown", metadata: { tags: ["x"] }, source: "# T" },
      {
        cell_type: "code",
        id: "b",
        metadata: {},
        source: 'import { a } from "./other.ts";\nconst f = (x: number) => x;',
        outputs: [{ output_type: "stream" }],
        execution_count: 4,
      },
    ],
    metadata: { kernelspec: { name: "python3" } },
    nbformat: 4,
    nbformat_minor: 4,
  };
  assert.deepEqual(notebookProblems(dirty), [
    "cell 1 has metadata",
    "cell 1 has no id",
    "cell 2 has outputs",
    "cell 2 has execution count 4",
    "the notebook metadata is not the standard Deno kernel metadata",
    "the notebook is nbformat 4.4, not 4.5",
  ]);
  const clean = cleanNotebook(dirty);
  assert.deepEqual(notebookProblems(clean), []);
  assert.deepEqual(clean.cells[1].outputs, []);
  assert.equal(clean.cells[1].execution_count, null);
  assert.equal(clean.cells[0].id, "cell-1");
  assert.deepEqual(clean.cells[1].source, [
    'import { a } from "./other.ts";\n',
    "const f = (x: number) => x;",
  ]);
  assert.deepEqual(codeRuleBreaks(dirty), [
    'cell 2 imports something else: import { a } from "./other.ts";',
    "cell 2 defines a function or class: const f = (x: number) => x;",
    'there is no import from "../lib/mod.ts"',
  ]);
  const withCode = (source: string) => ({
    ...clean,
    cells: [{ ...clean.cells[1], source }],
  });
  // Grouped, multi-line and namespace imports of the library are fine.
  for (
    const good of [
      'import { a, b } from "../lib/mod.ts";\nimport { c } from "../lib/mod.ts";',
      'import {\n  a,\n  b,\n} from "../lib/mod.ts";',
      'import * as lib from "../lib/mod.ts";',
    ]
  ) {
    assert.deepEqual(codeRuleBreaks(withCode(good)), [], good);
  }
  assert.deepEqual(
    codeRuleBreaks(withCode(
      `import "../lib/mod.ts";\n// deno-fmt-ignore\nconst x = "${
        "y".repeat(100)
      }";`,
    )),
    [
      'cell 1 imports in another form: import "../lib/mod.ts"',
      "cell 1 turns formatting off: // deno-fmt-ignore",
      'cell 1 has a line of 113 characters (at most 100): const x = "yyyyyyyyyyyyyyyyyyyyyyyyyyyyy…',
      'there is no import from "../lib/mod.ts"',
    ],
  );
  for (
    const bad of ["function f() {}", "class A {}", "async function* g() {}"]
  ) {
    const nb = { ...clean, cells: [{ ...clean.cells[1], source: bad }] };
    assert.ok(codeRuleBreaks(nb).some((b) => b.includes("defines")), bad);
  }
  // Words in strings are not definitions.
  const words = {
    ...clean,
    cells: [{ ...clean.cells[1], source: 'textView("per class function")' }],
  };
  assert.ok(!codeRuleBreaks(words).some((b) => b.includes("defines")));
  // Jupyter's layout: sorted keys, one-space indent, final newline.
  assert.equal(
    serializeNotebook({
      cells: [],
      metadata: { b: 1, a: 2 },
      nbformat: 4,
      nbformat_minor: 5,
    }),
    '{\n "cells": [],\n "metadata": {\n  "a": 2,\n  "b": 1\n },\n "nbformat": 4,\n "nbformat_minor": 5\n}\n',
  );
});

/**
 * Runs a notebook's import cells and the code cells that `pick` selects as
 * one module (outside Jupyter `show` prints text), and returns what it
 * exports (`names`).
 */
async function runCells(
  name: string,
  pick: (source: string) => boolean,
  names: string[],
): Promise<Record<string, unknown>> {
  const nb = await readNotebook(join(NOTEBOOK_DIR, `${name}.ipynb`));
  const code = nb.cells.filter((c) => c.cell_type === "code").map(cellSource);
  const lib = JSON.stringify(toFileUrl(join(ROOT, "lib", "mod.ts")));
  const module = [
    ...code.filter((c) => /^import /m.test(c)),
    ...code.filter((c) => !/^import /m.test(c) && pick(c)),
    `export { ${names.join(", ")} };`,
  ].join("\n").replaceAll('"../lib/mod.ts"', lib);
  const dir = await Deno.makeTempDir({ prefix: "notebook-cells-" });
  try {
    const file = join(dir, `${name}.ts`);
    await Deno.writeTextFile(file, module);
    return await import(toFileUrl(file));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A layer's class and configuration, without its (counter-made) name. */
function layerShape(layer: tf.layers.Layer): string {
  const { name: _name, ...config } = layer.getConfig();
  return JSON.stringify([layer.getClassName(), config]);
}

Deno.test("02-model's code in view builds the library's MiniVGGNet: same layers, settings, parameters and starting weights", async () => {
  await initWasmBackend();
  const { model } = await runCells(
    "02-model",
    (c) => c.includes("tf.sequential("),
    ["model"],
  ) as { model: tf.Sequential };
  const reference = buildMiniVGGNet({ seed: 42 });
  try {
    assert.deepEqual(
      model.layers.map(layerShape),
      reference.layers.map(layerShape),
    );
    assert.equal(model.countParams(), MINIVGGNET_PARAMS);
    const bytes = (m: tf.LayersModel) =>
      m.getWeights().map((w) => new Uint8Array(w.dataSync().buffer));
    assert.deepEqual(bytes(model), bytes(reference));
  } finally {
    model.dispose();
    reference.dispose();
  }
});

Deno.test("03-train's compile step is the library's for the recipe: optimizer, schedule, loss and metric", async () => {
  await initWasmBackend();
  const { model, settings, train } = await runCells(
    "03-train",
    (c) =>
      /notebookSettings\(|recipeSplits\(|model\.compile\(/.test(c) &&
      !c.includes("trainModel("),
    ["model", "settings", "train"],
  ) as { model: tf.LayersModel; settings: NotebookSettings; train: Split };
  const reference = buildMiniVGGNet({ seed: 42 });
  try {
    const steps = settings.epochs *
      Math.ceil(train.count / settings.recipe.batchSize);
    const optimizer = compileForRecipe(reference, settings.recipe, steps);
    const compiled = model.optimizer as unknown as typeof optimizer;
    assert.equal(compiled.constructor, optimizer.constructor);
    assert.deepEqual(compiled.getConfig(), optimizer.getConfig());
    assert.equal(compiled.totalSteps, steps);
    assert.deepEqual(model.loss, reference.loss);
    assert.deepEqual(model.metricsNames, reference.metricsNames);
  } finally {
    model.dispose();
    reference.dispose();
  }
});

Deno.test("the notebooks' code type-checks against the library", async () => {
  const dir = await Deno.makeTempDir({ prefix: "notebook-check-" });
  try {
    const files: string[] = [];
    for (const name of NOTEBOOKS) {
      const nb = await readNotebook(join(NOTEBOOK_DIR, `${name}.ipynb`));
      const code = notebookCode(nb).replaceAll(
        '"../lib/mod.ts"',
        JSON.stringify(toFileUrl(join(ROOT, "lib", "mod.ts"))),
      );
      const file = join(dir, `${name}.ts`);
      await Deno.writeTextFile(file, `export {};\n${code}`);
      files.push(file);
    }
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", "--config", join(ROOT, "deno.json"), ...files],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function task(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "notebooks", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).output();
  const stderr = new TextDecoder().decode(out.stderr).split("\n").filter((l) =>
    l !== "" && !l.startsWith("Task notebooks")
  );
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr,
  };
}

Deno.test("deno task notebooks: bad input is one sentence and runs nothing", async () => {
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [
      ["--limit", "0"],
      {},
      /^error: --limit must be an integer of at least 1, got "0"\.$/,
    ],
    [
      [],
      { FMNIST_LIMIT: "lots" },
      /^error: FMNIST_LIMIT must be a positive whole number, got "lots"; unset it for the full run\.$/,
    ],
    [
      ["06-extra"],
      {},
      /^error: there is no notebook 06-extra; choose from 01-data, /,
    ],
    [
      ["--out", "/tmp/elsewhere"],
      {},
      /^error: cannot write to \/tmp\/elsewhere: deno task notebooks may write only under out\//,
    ],
  ];
  for (const [args, env, pattern] of cases) {
    const r = await task(args, env);
    assert.equal(
      r.code,
      2,
      `${args} ${JSON.stringify(env)}: ${r.stderr.join("\n")}`,
    );
    assert.equal(r.stderr.length, 1, r.stderr.join("\n"));
    assert.match(r.stderr[0], pattern);
  }
  const help = await task(["--help"]);
  assert.equal(help.code, 0);
  for (const flag of ["--limit", "--epochs", "--out", "--jupyter"]) {
    assert.ok(help.stdout.includes(flag), flag);
  }
});

Deno.test("deno task notebooks runs every notebook with FMNIST_LIMIT, and the HTML draws offline in Chromium", async (t) => {
  await Deno.remove(OUT, { recursive: true }).catch(() => {});
  const started = performance.now();
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["task", "notebooks", "--out", "out/notebooks-test"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { FMNIST_LIMIT: "2000", FMNIST_EPOCHS: "", NO_COLOR: "1" },
  }).output();
  const stdout = new TextDecoder().decode(run.stdout);
  const stderr = new TextDecoder().decode(run.stderr);
  assert.equal(run.code, 0, `${stdout}\n${stderr}`);
  assert.match(
    stdout,
    /quick run \(FMNIST_LIMIT=2000\): the first 2,000 training/,
  );
  console.log(
    `notebooks executed in ${
      ((performance.now() - started) / 1000).toFixed(0)
    } s`,
  );

  const executed = new Map<string, Notebook>();
  for (const name of NOTEBOOKS) {
    executed.set(name, await readNotebook(join(OUT, `${name}.ipynb`)));
  }

  await t.step("every cell ran, without error or stderr output", async () => {
    for (const [name, nb] of executed) {
      for (const [i, c] of nb.cells.entries()) {
        if (c.cell_type !== "code") continue;
        assert.ok(
          c.execution_count !== null,
          `${name} cell ${i + 1} did not run`,
        );
        // A cell that shows a view has an output.
        if (/^await show\(/m.test(cellSource(c))) {
          assert.ok(
            (c.outputs ?? []).length > 0,
            `${name} cell ${i + 1} shows nothing`,
          );
        }
      }
      const bad = outputs(nb).filter((o) =>
        o.output_type === "error" ||
        (o.output_type === "stream" && o.name === "stderr")
      );
      assert.deepEqual(bad, [], `${name}: error output`);
      const html = await Deno.readTextFile(join(OUT, `${name}.html`));
      assert.doesNotMatch(
        html,
        /<script[^>]+src=/,
        `${name}.html loads a script`,
      );
      // The page carries plotly.js once if it has charts; the notebook none.
      const charts = outputs(nb).filter((o) =>
        text(o.data?.["text/html"]).includes('class="fmnist-chart"')
      ).length;
      assert.equal(
        html.split("Copyright 2012-").length - 1,
        charts > 0 ? 1 : 0,
        `${name}.html: plotly.js copies`,
      );
      const size = (await Deno.stat(join(OUT, `${name}.ipynb`))).size;
      assert.ok(size < 1_000_000, `${name}.ipynb is ${size} bytes`);
    }
  });

  await t.step(
    "03-train: one live chart and a progress line, both finished; the model saved",
    async () => {
      const nb = executed.get("03-train")!;
      const trainCell = nb.cells.findIndex((c) =>
        cellSource(c).includes("new LiveTrainingChart")
      );
      const cellOutputs = outputs(nb).filter((o) => o.cell === trainCell);
      const charts = cellOutputs.filter((o) =>
        o.data?.["application/vnd.plotly.v1+json"]
      );
      assert.equal(charts.length, 1, "one chart in the training cell");
      // The fast recipe, the notebook's default: 5 epochs.
      assert.match(
        text(charts[0].data?.["text/plain"]),
        /^Training: 5\/5 epoch\(s\) done/,
      );
      const fig = charts[0].data?.["application/vnd.plotly.v1+json"] as {
        data: Array<{ name: string; x: number[]; y: number[] }>;
      };
      const val = fig.data.find((d) => d.name === "val_accuracy")!;
      assert.deepEqual(val.x, [1, 2, 3, 4, 5]);
      // A quick run that is not a toy: 2,000 images, a minute of training.
      assert.ok(val.y[4] >= 0.75, `quick-run validation accuracy ${val.y[4]}`);
      const progress = cellOutputs.filter((o) =>
        text(o.data?.["text/plain"]).startsWith("epoch 1/5")
      );
      assert.equal(progress.length, 1, "one progress line");
      assert.match(
        text(progress[0].data?.["text/plain"]),
        /done: 5 epoch\(s\) in /,
      );
      // No output carries plotly.js (the charts load it from next to the
      // notebook); the history chart follows.
      const all = outputs(nb);
      assert.deepEqual(
        all.filter((o) =>
          text(o.data?.["text/html"]).includes("Copyright 2012-")
        ),
        [],
      );
      assert.ok(
        all.filter((o) => o.data?.["application/vnd.plotly.v1+json"]).length >=
          2,
      );
      assert.ok((await Deno.stat(join(OUT, "model.zip"))).size > 1_000_000);
    },
  );

  await t.step(
    "04-evaluate: report, heatmap and bars, the montage, the mistakes",
    () => {
      const all = outputs(executed.get("04-evaluate")!);
      const plain = all.map((o) => text(o.data?.["text/plain"]));
      assert.ok(
        plain.some((p) =>
          /^\s+precision\s+recall\s+f1-score\s+support/.test(p)
        ),
      );
      assert.ok(
        all.filter((o) => o.data?.["application/vnd.plotly.v1+json"]).length >=
          2,
      );
      const montage = all.find((o) =>
        /16 random test images/.test(text(o.data?.["text/plain"]))
      );
      assert.ok(montage?.data?.["image/png"], "the montage image");
      const png = decodePng(
        Uint8Array.from(
          atob(text(montage.data["image/png"])),
          (c) => c.charCodeAt(0),
        ),
      );
      assert.deepEqual([png.width, png.height], [404, 404]);
      assert.ok(
        plain.some((p) => p.startsWith("The 8 most confident mistakes")),
      );
    },
  );

  await t.step(
    "05-your-own: the sample prepared and classified with a top-3 chart",
    () => {
      const all = outputs(executed.get("05-your-own")!);
      const plain = all.map((o) => text(o.data?.["text/plain"]));
      assert.ok(
        plain.some((p) =>
          /^images\/ankle-boot\.jpg: 360×300 picture; light background, so inverted/
            .test(p)
        ),
      );
      assert.equal(
        plain.filter((p) => /^Top 3: /.test(p)).length,
        2,
      );
    },
  );

  await t.step(
    "Chromium, network blocked, draws every chart of 03-train and 04-evaluate",
    async () => {
      for (const name of ["03-train", "04-evaluate"]) {
        const shot = join(OUT, `${name}.png`);
        const page = await renderOffline(join(OUT, `${name}.html`), shot);
        assert.deepEqual(page.errors, [], `${name}: page errors`);
        assert.deepEqual(page.blocked, [], `${name}: tried the network`);
        assert.ok(
          page.charts.length >= 2,
          `${name}: ${page.charts.length} charts`,
        );
        for (const c of page.charts) {
          assert.ok(c.svgs >= 1, `${name} ${c.id}: no plotly SVG`);
          assert.ok(
            c.width > 300 && c.height > 300,
            `${name} ${c.id}: ${c.width}×${c.height}`,
          );
          assert.ok(
            c.traces >= 1 && c.marks >= 1,
            `${name} ${c.id}: empty (${c.traces} traces, ${c.marks} marks)`,
          );
        }
        if (name === "04-evaluate") {
          assert.ok(page.images >= 9, `${page.images} pictures`);
        }
        const png = decodePng(await Deno.readFile(shot));
        assert.equal(png.width, 1280);
        assert.ok(png.height > 1500);
      }
    },
  );

  await t.step(
    "a real front end: the classic Notebook in Chromium, Run All twice per notebook, every output under its own cell, charts drawn (also after a reload and a re-run), Stop stops training",
    async () => {
      const loops = Deno.env.get("FRONTEND_LOOPS") ?? "5";
      const started = performance.now();
      const run = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          join(ROOT, "tests", "jupyter", "frontend.ts"),
          "--out",
          "out/frontend-test",
          "--loops",
          loops,
          "--stop",
        ],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
        env: { FMNIST_LIMIT: "2000", FMNIST_EPOCHS: "2", NO_COLOR: "1" },
      }).output();
      const stderr = new TextDecoder().decode(run.stderr);
      assert.equal(run.code, 0, stderr.slice(-3000));
      const report: FrontendReport = JSON.parse(
        new TextDecoder().decode(run.stdout),
      );
      assert.equal(
        report.failure,
        null,
        `${report.failure}\n${stderr.slice(-2000)}`,
      );
      console.log(
        `front end: ${report.notebooks.length} notebook rounds (${loops} loop(s) × 5, 2 Run Alls each) and Stop in ${
          ((performance.now() - started) / 1000).toFixed(0)
        } s; screenshots in out/frontend-test/`,
      );
      assert.equal(report.notebooks.length, 5 * Number(loops));
      for (const nb of report.notebooks) {
        const headless = executed.get(nb.name)!;
        const code = headless.cells.filter((c) => c.cell_type === "code");
        const expected = code.map((c) => (c.outputs ?? []).map(shapeOf));
        const charts = outputs(headless).filter((o) =>
          text(o.data?.["text/html"]).includes('class="fmnist-chart"')
        ).length;
        const where = `${nb.name}, loop ${nb.loop}`;
        assert.equal(nb.rerun === null, charts === 0, `${where}: re-run`);
        for (
          const [which, run] of Object.entries({
            "first Run All": nb.first,
            "second Run All (cleared, same kernel)": nb.second,
            "after a reload": nb.reloaded,
            "after one chart cell ran again alone": nb.rerun ?? nb.reloaded,
          })
        ) {
          assert.deepEqual(run.cells, expected, `${where}, ${which}: outputs`);
          assert.equal(run.charts, charts, `${where}, ${which}: charts`);
          assert.deepEqual(run.notDrawn, [], `${where}, ${which}: not drawn`);
          assert.equal(run.drawn, charts, `${where}, ${which}: drawn`);
          assert.equal(run.brokenImages, 0, `${where}, ${which}: pictures`);
          if (nb.name !== "03-train") {
            assert.ok(run.images > 0, `${where}, ${which}: no pictures`);
          }
        }
        // The live chart grows in place: one chart, more points later.
        if (nb.name === "03-train") {
          const looks = nb.first.live;
          assert.ok(looks !== null && looks.length === 2, `${where}: looks`);
          assert.deepEqual(
            looks.map((l) =>
              l.charts
            ),
            [1, 1],
            where,
          );
          assert.ok(looks[1].points > looks[0].points, `${where}: grows`);
        } else {
          assert.equal(nb.first.live, null, where);
        }
        assert.deepEqual(nb.pageErrors, [], `${where}: page errors`);
        assert.ok(
          nb.savedBytes < 1_000_000,
          `${where}: saved notebook is ${nb.savedBytes} bytes`,
        );
      }
      const stop = report.stop!;
      assert.ok(stop, "the Stop scenario ran");
      assert.ok(
        stop.secondsToStop < 5,
        `training ended ${stop.secondsToStop.toFixed(2)} s after Stop`,
      );
      assert.match(
        stop.progress,
        /^Stopped on interrupt in epoch \d+ after batch \d+ of \d+: the model keeps/m,
      );
      assert.match(stop.predicted, /^predicted \d,\d,\d,\d$/);
      assert.equal(stop.kernelAlive, true);
      assert.ok(stop.after.length >= 3, "the cells after training ran");
      assert.deepEqual(
        stop.after.flat().filter((o) => o.startsWith("error")),
        [],
      );
      assert.deepEqual(stop.pageErrors, []);
    },
  );
});

/**
 * Runs deno with `args` on a terminal of 120 columns (made by Python's pty
 * module) and returns its exit code and everything it wrote there. With
 * `ctrlCAfter`, types Ctrl-C two seconds after that text first appears.
 * Each "\r\x1b[K" (back to the line's start, erase it) reads `<redraw>`.
 */
async function onTerminal(
  args: string[],
  ctrlCAfter?: string,
): Promise<{ code: number; shown: string }> {
  const r = await new Deno.Command("/usr/bin/python3", {
    args: [
      "-c",
      `import fcntl, os, pty, select, struct, sys, termios, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
trigger = sys.argv[1].encode()
chunks = []
seen = None
while True:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if ready:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    if trigger and seen is None and trigger in b"".join(chunks):
        seen = time.monotonic()
    if seen is not None and time.monotonic() - seen >= 2:
        os.write(fd, b"\x03")  # Ctrl-C, as typed
        seen = float("inf")
sys.stdout.buffer.write(b"".join(chunks))
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))`,
      ctrlCAfter ?? "",
      Deno.execPath(),
      ...args,
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  // The status line's "carriage return, erase line" as a marker of its own.
  const shown = new TextDecoder().decode(r.stdout).replaceAll(
    "\r\x1b[K",
    "<redraw>",
  );
  return { code: r.code, shown };
}

/** The names in `dir`, sorted. */
async function namesIn(dir: string): Promise<string[]> {
  const names = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

Deno.test("deno task notebooks on a terminal shows each cell as it runs on one status line, and leaves only finished files", async () => {
  const out = join("out", `test-${crypto.randomUUID()}`);
  try {
    const r = await onTerminal([
      "task",
      "notebooks",
      "--limit",
      "100",
      "--out",
      out,
      "01-data",
    ]);
    const shown = r.shown;
    assert.equal(r.code, 0, shown);
    // Every code cell's start was drawn, numbered, over the line before.
    const code = (await readNotebook(join(NOTEBOOK_DIR, "01-data.ipynb")))
      .cells.filter((c) => c.cell_type === "code" && cellSource(c).trim());
    for (let i = 1; i <= code.length; i++) {
      assert.match(
        shown,
        new RegExp(
          `<redraw>01-data · cell ${i} of ${code.length} · \\d+:\\d\\d · `,
        ),
        `cell ${i}`,
      );
    }
    // No status line is wider than the terminal; the last one is cleared.
    const status = [...shown.matchAll(/<redraw>([^\r\n<]*)/g)].map((m) => m[1]);
    assert.ok(status.length >= code.length, shown);
    for (const line of status) assert.ok([...line].length < 120, line);
    assert.match(shown, /<redraw>01-data: executed in /);
    assert.doesNotMatch(shown, /@@notebook-progress/);
    assert.deepEqual(await namesIn(join(ROOT, out)), [
      "01-data.html",
      "01-data.ipynb",
    ]);
  } finally {
    await Deno.remove(join(ROOT, out), { recursive: true }).catch(() => {});
  }
});

Deno.test("deno task notebooks: Ctrl-C stops it with one line saying what stopped and what finished, exit code 130, nothing half-written", async () => {
  const out = join("out", `test-${crypto.randomUUID()}`);
  try {
    const r = await onTerminal(
      [
        "task",
        "notebooks",
        "--limit",
        "2000",
        "--epochs",
        "20",
        "--out",
        out,
        "01-data",
        "03-train",
      ],
      "epoch 1/",
    );
    assert.equal(r.code, 130, r.shown);
    assert.match(
      r.shown,
      /<redraw>stopped by Ctrl-C while 03-train ran \(cell \d+ of \d+\); 03-train's outputs were not written\. Finished before it: 01-data \(in out\/test-[^)]+\/\)\.\r?\n/,
    );
    assert.doesNotMatch(r.shown, /Traceback|KeyboardInterrupt|unexpected/);
    // 01-data's files, nothing of 03-train's, no staging folder.
    assert.deepEqual(await namesIn(join(ROOT, out)), [
      "01-data.html",
      "01-data.ipynb",
    ]);
  } finally {
    await Deno.remove(join(ROOT, out), { recursive: true }).catch(() => {});
  }
});

Deno.test("deno task notebooks: a SIGINT sent to the task alone reaches nbconvert too and stops the run the same way", async () => {
  const out = join("out", `test-${crypto.randomUUID()}`);
  // The task's program with the task's permissions (its `deno run`
  // arguments in deno.json), so the signal reaches it alone (as
  // `kill -INT` would), not its process group.
  const task: string = JSON.parse(
    await Deno.readTextFile(join(ROOT, "deno.json")),
  ).tasks.notebooks;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...task.slice(task.indexOf("deno run ") + "deno ".length).split(" "),
      "--limit",
      "2000",
      "--epochs",
      "20", // a training cell long enough to be named, on any machine
      "--out",
      out,
      "03-train",
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  try {
    // In a log, the training cell is named once it has run 10 s.
    let text = "";
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    while (!/cell \d+ of \d+ is running: const live/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    assert.match(text, /03-train · cell \d+ of \d+ is running: const live/);
    // Twice, 20 ms apart, as deno task can deliver one press: still one.
    child.kill("SIGINT");
    await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGINT");
    const rest = reader.read().then(async function drain(r): Promise<void> {
      if (!r.done) return drain(await reader.read());
    });
    const [status, stderr] = await Promise.all([
      child.status,
      new Response(child.stderr).text(),
      rest,
    ]);
    assert.equal(status.code, 130, stderr);
    assert.match(
      stderr,
      /^stopped by Ctrl-C while 03-train ran \(cell \d+ of \d+\); 03-train's outputs were not written\.\n$/,
    );
    assert.deepEqual(await namesIn(join(ROOT, out)), []);
  } finally {
    await Deno.remove(join(ROOT, out), { recursive: true }).catch(() => {});
  }
});
