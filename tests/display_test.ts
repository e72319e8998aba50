import assert from "node:assert/strict";
import {
  backendView,
  buildMiniVGGNet,
  chartView,
  CLASS_NAMES,
  classBalanceView,
  classGridView,
  classificationReport,
  confusionMatrix,
  confusionView,
  datasetView,
  type EpochRecord,
  formatReport,
  historyView,
  initWasmBackend,
  LiveTrainingChart,
  mistakesView,
  modelView,
  montageView,
  notebookSettings,
  perClassAccuracyView,
  pixelHistogramView,
  pixelStatistics,
  plotlyFigure,
  predictionsView,
  preparedView,
  prepareImage,
  reportView,
  settingsView,
  show,
  type Split,
  topKChart,
  topKView,
  View,
} from "../lib/mod.ts";
import { decodePng, encodePng } from "../lib/image/png.ts";
import { DISPLAY, type DisplaySink } from "../lib/jupyter.ts";
import {
  base64,
  chartFragment,
  PLOTLY_SRC,
  plotlyPageScript,
  tableHtml,
} from "../lib/render/html.ts";
import {
  chartMime,
  imageMime,
  type MimeBundle,
  PLOTLY_MIME,
  textMime,
} from "../lib/render/mime.ts";
import { tableText } from "../lib/render/text.ts";
import { type BatchProgress } from "../lib/train.ts";
import { createImage, fillRect } from "./rgba.ts";
import type { LoaderPageReport } from "./jupyter/chart_loader.ts";
import {
  ensurePlotlyAsset,
  plotlyJsSource,
} from "../lib/render/plotly_source.ts";
import { join } from "node:path";

// Started once, at module level, as the other test modules do.
const backendInfo = await initWasmBackend();

function split(count: number): Split {
  const images = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 10;
    images.fill(20 * (i % 10) + 30, i * 784 + 300, i * 784 + 500);
  }
  return { images, labels, count };
}

function record(epoch: number): EpochRecord {
  return {
    epoch,
    loss: 1 / epoch,
    accuracy: 1 - 0.3 / epoch,
    val_loss: 1.2 / epoch,
    val_accuracy: 1 - 0.4 / epoch,
    lr: 0.01,
    seconds: 2,
    images_per_second: 100,
    images_seen: 500 * epoch,
    wall_seconds: 2 * epoch,
  };
}

function progress(epoch: number, batch: number, batches = 5): BatchProgress {
  return {
    epoch,
    epochs: 2,
    batch,
    batches,
    loss: 2 - 0.1 * batch,
    accuracy: 0.1 * batch,
    imagesPerSecond: 50,
    secondsLeft: (batches - batch) * 0.5,
    lr: 0.01,
  };
}

Deno.test("chartMime: plotly JSON, HTML that loads plotly.js from next to the notebook, plain text", () => {
  const chart = topKChart([0.1, 0.7, 0.2], ["Bag", "Coat", "Dress"], 2);
  const b = chartMime(chart, { id: "top-chart" });
  assert.deepEqual(Object.keys(b), [PLOTLY_MIME, "text/html", "text/plain"]);
  assert.deepEqual(b[PLOTLY_MIME], plotlyFigure(chart));
  assert.equal(b["text/plain"], "Top 2 predictions (probability: 2 points)");
  const html = b["text/html"] as string;
  assert.match(html, /<div class="fmnist-chart" id="top-chart"/);
  assert.match(
    html,
    /<span class="fmnist-plotly-src" hidden src="_static\/plotly-4\.1\.2\.min\.js"><\/span>/,
  );
  assert.doesNotMatch(html, /<script src|https?:\/\//);
  // Small: the library itself is never in an output.
  assert.ok(html.length < 8_000, `${html.length} characters`);
  assert.equal(
    chartMime(chart, { id: "x", plain: "custom" })["text/plain"],
    "custom",
  );
});

Deno.test("PLOTLY_SRC names the pinned plotly.js, and the page script defines it as a global", async () => {
  const pkg = JSON.parse(
    await Deno.readTextFile(
      new URL(
        "../node_modules/plotly.js-dist-min/package.json",
        import.meta.url,
      ),
    ),
  );
  assert.equal(PLOTLY_SRC, `_static/plotly-${pkg.version}.min.js`);
  const page = plotlyPageScript(
    "window.Plotly = { typeof_module: typeof module };",
  );
  const window: Record<string, unknown> = {};
  const body = /<script>([\s\S]*)<\/script>/.exec(page)![1];
  new Function("window", body)(window);
  assert.deepEqual(window.Plotly, { typeof_module: "undefined" });
});

Deno.test("chart HTML cannot be broken out of by its data", () => {
  const chart = topKChart([1, 0], ["</script><b>x", "Coat"], 2);
  const html = chartFragment(chart, 'id"<x>');
  assert.equal(html.match(/<\/script>/g)?.length, 1);
  assert.match(html, /id="id&quot;&lt;x&gt;"/);
  const page = plotlyPageScript('var s = "</script>";');
  assert.equal(page.match(/<\/script>/g)?.length, 1);
});

Deno.test("tables: aligned plain text and escaped HTML with a caption", () => {
  const t = {
    caption: "Counts",
    headers: ["class", "n"],
    rows: [["Bag", 12], ["<Coat>", 3]],
  };
  assert.equal(
    tableText(t),
    ["Counts", "class    n", "------  --", "Bag     12", "<Coat>   3"].join(
      "\n",
    ),
  );
  const html = tableHtml(t);
  assert.match(html, /^<p[^>]*><strong>Counts<\/strong><\/p>/);
  assert.match(html, /&lt;Coat&gt;/);
  assert.match(html, /text-align: right[^>]*>12</);
  // A picture cell: an embedded PNG in HTML, nothing in plain text.
  const pictures = {
    headers: ["img", "n"],
    rows: [[{ image: createImage(2, 3, [0, 0, 0]), alt: "<dot>" }, 1]],
  };
  assert.match(
    tableHtml(pictures),
    /<td[^>]*><img src="data:image\/png;base64,[^"]+" alt="&lt;dot&gt;" width="2" height="3" style="image-rendering: pixelated;"><\/td>/,
  );
  assert.equal(tableText(pictures), "img  n\n---  -\n     1");
});

Deno.test("reportView: the report as an HTML table, scikit-learn's text as plain", async () => {
  const report = classificationReport([0, 1, 1, 2], [0, 1, 2, 2], [
    "a",
    "b",
    "c",
  ]);
  const b = await reportView(report).mime();
  assert.equal(b["text/plain"], formatReport(report));
  const html = b["text/html"] as string;
  for (
    const cell of [
      ">a<",
      ">b<",
      ">c<",
      ">0.75<",
      ">macro avg<",
      ">weighted avg<",
      ">0.67<",
    ]
  ) {
    assert.ok(html.includes(cell), cell);
  }
  assert.equal(reportView(report).text, formatReport(report));
});

Deno.test("imageMime: a PNG that decodes to the picture, with its caption", () => {
  const img = createImage(6, 4, [10, 200, 30]);
  const b = imageMime(encodePng(img), 6, 4, "six by four");
  const png = Uint8Array.from(
    atob(b["image/png"] as string),
    (c) => c.charCodeAt(0),
  );
  assert.deepEqual(decodePng(png), img);
  assert.equal(b["text/plain"], "[image 6×4] six by four");
  assert.match(
    b["text/html"] as string,
    /<figcaption>six by four<\/figcaption>/,
  );
  assert.equal(base64(new Uint8Array([104, 105])), "aGk=");
  assert.equal(base64(new Uint8Array(100000).fill(7)).length, 133336);
});

Deno.test("mistakesView and preparedView show pictures with their facts", async () => {
  // Two mistakes: item 7 (a Coat taken for a Bag at 97.5 %) and item 2
  // (a Bag taken for a Coat at 60 %); k = 1 keeps the surer one.
  const split = {
    images: new Uint8Array(8 * 784),
    labels: new Uint8Array([0, 0, 0, 1, 1, 1, 1, 1]),
    count: 8,
  };
  const predictions = {
    predicted: new Uint8Array([0, 0, 1, 1, 1, 1, 1, 0]),
    confidence: new Float32Array([0.9, 0.9, 0.6, 0.9, 0.9, 0.9, 0.9, 0.975]),
  };
  const m = mistakesView(split, predictions, ["Bag", "Coat"], 1);
  assert.deepEqual(m.text.split("\n"), [
    "The 1 most confident mistakes",
    "image  test index  true class  predicted  confidence",
    "-----  ----------  ----------  ---------  ----------",
    "                7  Coat        Bag             97.5%",
  ]);
  const html = (await m.mime())["text/html"] as string;
  assert.equal(html.match(/<img src="data:image\/png;base64,/g)?.length, 1);
  const photo = createImage(100, 60, [250, 250, 250]);
  fillRect(photo, 30, 10, 40, 40, [20, 20, 20]);
  const p = await preparedView(prepareImage(photo), "shoe.jpg").mime();
  assert.match(
    p["text/plain"] as string,
    /^shoe\.jpg: 100×60 picture; light background, so inverted; object cropped at 40×40/,
  );
  assert.equal((p["text/html"] as string).match(/<img /g)?.length, 2);
  // The model input, 28×28 shown 8×, is the image/png.
  const input = decodePng(
    Uint8Array.from(atob(p["image/png"] as string), (c) => c.charCodeAt(0)),
  );
  assert.deepEqual([input.width, input.height], [224, 224]);
  assert.deepEqual(textMime("a<b"), {
    "text/html": '<pre style="margin: 0;">a&lt;b</pre>',
    "text/plain": "a<b",
  });
});

Deno.test("a View renders itself as its bundle, made once when first shown", async () => {
  const chart = chartView(topKChart([0.5, 0.5], ["Bag", "Coat"], 2));
  const table = new View({ "text/plain": "t", "text/html": "<b>t</b>" });
  assert.equal(DISPLAY, Symbol.for("Jupyter.display"));
  assert.deepEqual(await table[DISPLAY](), {
    "text/plain": "t",
    "text/html": "<b>t</b>",
  });
  assert.ok(PLOTLY_MIME in await chart[DISPLAY]());
  assert.equal(chart.usesPlotly, true);
  assert.equal(String(table), "t");
  let made = 0;
  const lazy = new View(() => {
    made++;
    return Promise.resolve({ "text/plain": "drawn" });
  }, { text: "drawn" });
  assert.equal(lazy.text, "drawn");
  assert.equal(made, 0);
  await lazy.mime();
  await lazy[DISPLAY]();
  assert.equal(made, 1);
});

Deno.test("show prints plain text outside Jupyter", async () => {
  const printed: unknown[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => printed.push(args.join(" "));
  try {
    await show(
      new View({ "text/plain": "one" }),
      new View({ "text/plain": "two" }),
    );
  } finally {
    console.log = log;
  }
  assert.deepEqual(printed, ["one", "two"]);
});

/** Feeds `live` two epochs of five batches each, then closes it. */
async function trainTwoEpochs(live: LiveTrainingChart): Promise<void> {
  for (let e = 1; e <= 2; e++) {
    for (let b = 1; b <= 5; b++) live.onBatch(progress(e, b));
    live.onEpoch(record(e));
  }
  await live.close();
}

Deno.test("LiveTrainingChart: one progress line and one chart, created once, then updated in place", async () => {
  const sent: Array<{ bundle: MimeBundle; id?: string; update: boolean }> = [];
  const sink: DisplaySink = (bundle, o) => {
    sent.push({ bundle, ...o });
    return Promise.resolve();
  };
  const live = new LiveTrainingChart({
    epochs: 2,
    minIntervalMs: 0,
    sink,
  });
  await trainTwoEpochs(live);

  // The two outputs, then only updates of them.
  const created = sent.filter((s) => !s.update);
  assert.deepEqual(created.map((s) => s.id), [live.progressId, live.chartId]);
  assert.deepEqual(sent.slice(0, 2), created);
  const updates = sent.slice(2);
  assert.ok(updates.length >= 10);
  assert.ok(
    updates.every((s) =>
      s.update && (s.id === live.chartId || s.id === live.progressId)
    ),
  );
  const charts = sent.filter((s) => s.id === live.chartId);

  // The last chart shows the whole run.
  const last = charts.at(-1)!.bundle[PLOTLY_MIME] as {
    data: Array<Record<string, unknown>>;
    layout: Record<string, unknown>;
  };
  assert.deepEqual(last.data.map((t) => t.name), [
    "loss",
    "val_loss",
    "accuracy",
    "val_accuracy",
  ]);
  assert.deepEqual(last.data[1].x, [1, 2]);
  assert.deepEqual(last.data[3].y, [0.6, 0.8]);
  assert.deepEqual((last.data[0].x as number[]).at(-1), 2);
  assert.match(JSON.stringify(last.layout.title), /2\/2 epoch\(s\) done/);
  const lastProgress = sent.filter((s) => s.id === live.progressId).at(-1)!;
  assert.match(
    lastProgress.bundle["text/plain"] as string,
    /^epoch 1\/2 .*\nepoch 2\/2 .*\ndone: 2 epoch\(s\) in /,
  );
  assert.equal(live.points.length, 10);
});

Deno.test("LiveTrainingChart: a stopped run ends with where it stopped", async () => {
  const sent: Array<{ bundle: MimeBundle; id?: string }> = [];
  let flushed = 0;
  const live = new LiveTrainingChart({
    epochs: 3,
    minIntervalMs: 0,
    sink: (bundle, o) => {
      sent.push({ bundle, ...o });
      return Promise.resolve();
    },
    flush: () => Promise.resolve(flushed++),
  });
  for (let b = 1; b <= 5; b++) live.onBatch(progress(1, b));
  live.onEpoch(record(1));
  live.onBatch(progress(2, 1));
  live.onBatch(progress(2, 2));
  const stop = {
    epoch: 2,
    batch: 2,
    batches: 5,
    reason: "interrupt" as const,
    completedEpochs: 1,
  };
  live.onStop(stop);
  await live.close();
  assert.equal(flushed, 1);
  assert.deepEqual(live.stopped, stop);
  const progressSent = sent.filter((s) => s.id === live.progressId).at(-1)!;
  assert.equal(
    String(progressSent.bundle["text/plain"]).split("\n").at(-1),
    "Stopped on interrupt in epoch 2 after batch 2 of 5: the model keeps the weights of that batch; the history has 1 complete epoch.",
  );
  const chart = sent.filter((s) => s.id === live.chartId).at(-1)!;
  assert.match(
    String(chart.bundle["text/plain"]),
    /^Training: stopped in epoch 2\/3, after batch 2\/5\n/,
  );
  assert.deepEqual(Object.keys(live.callbacks), [
    "onBatch",
    "onEpoch",
    "onStop",
  ]);
});

Deno.test("LiveTrainingChart: redraws are throttled but every epoch end is drawn", async () => {
  const chartSends: string[] = [];
  const sink: DisplaySink = (bundle, o) => {
    if (o.id?.startsWith("live-chart")) {
      chartSends.push(String(bundle["text/plain"]).split("\n")[0]);
    }
    return Promise.resolve();
  };
  const live = new LiveTrainingChart({
    epochs: 2,
    minIntervalMs: 1e9,
    sink,
  });
  await trainTwoEpochs(live);
  // The first batch, two epoch ends, and the close.
  assert.deepEqual(chartSends, [
    "Training: epoch 1/2, batch 1/5",
    "Training: epoch 1/2, batch 5/5",
    "Training: epoch 2/2, batch 5/5",
    "Training: 2/2 epoch(s) done",
  ]);
});

Deno.test("LiveTrainingChart: keeps at most maxPoints; reports a failing display on close", async () => {
  const live = new LiveTrainingChart({
    epochs: 1,
    maxPoints: 10,
    minIntervalMs: 0,
    sink: () => Promise.reject(new Error("kernel gone")),
  });
  for (let b = 1; b <= 100; b++) live.onBatch(progress(1, b, 100));
  assert.ok(live.points.length <= 12, `${live.points.length}`);
  assert.equal(live.points.at(-1)!.x, 1);
  await assert.rejects(live.close(), /kernel gone/);
  assert.throws(() => new LiveTrainingChart({ epochs: 0 }), RangeError);
});

Deno.test("LiveTrainingChart outside Jupyter prints one line per epoch", async () => {
  const printed: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => printed.push(args.join(" "));
  try {
    const live = new LiveTrainingChart({ epochs: 2 });
    live.onBatch(progress(1, 1));
    live.onEpoch(record(1));
    await live.close();
  } finally {
    console.log = log;
  }
  assert.equal(printed.length, 1);
  assert.match(
    printed[0],
    /^epoch 1\/2 loss 1\.0000 acc 0\.7000 val_loss 1\.2000 val_acc 0\.6000/,
  );
});

Deno.test("views of evaluation results say what they show", async () => {
  const test = split(40);
  const predicted = Uint8Array.from(
    test.labels,
    (l, i) => (i % 4 === 0 ? (l + 1) % 10 : l),
  );
  const confidence = Float32Array.from(test.labels, (_, i) => 0.5 + i / 100);
  const probabilities = new Float32Array(40 * 10);
  predicted.forEach((p, i) => {
    probabilities.fill(0.05 / 9, i * 10, i * 10 + 10);
    probabilities[i * 10 + p] = 0.95;
  });
  const predictions = {
    predicted,
    confidence,
    probabilities,
    classes: 10,
    count: 40,
  };

  // A montage of a 16-image split shows all 16 (in some order): here
  // items 0, 4, 8 and 12 are wrong, so 12 right and 4 wrong, whatever the seed.
  const sixteen = split(16);
  const montage = montageView(
    sixteen,
    {
      predicted: Uint8Array.from(
        sixteen.labels,
        (l, i) => (i % 4 === 0 ? (l + 1) % 10 : l),
      ),
    },
    CLASS_NAMES,
    7,
  );
  assert.equal(
    montage.text,
    "[image 404×404] 16 random test images (seed 7) with the predicted class: 12 right (green), 4 wrong (red)",
  );
  const png = decodePng(
    Uint8Array.from(
      atob((await montage.mime())["image/png"] as string),
      (c) => c.charCodeAt(0),
    ),
  );
  assert.deepEqual([png.width, png.height], [404, 404]);
  // Red label pixels in exactly 4 tiles, green in the other 12.
  let redTiles = 0;
  for (let t = 0; t < 16; t++) {
    let red = 0;
    for (let y = 0; y < 96; y++) {
      for (let x = 0; x < 96; x++) {
        const at = ((4 + Math.floor(t / 4) * 100 + y) * 404 + 4 +
          (t % 4) * 100 + x) * 4;
        const [r, g, b] = png.data.subarray(at, at + 3);
        if (r > 180 && g < 120 && b < 120) red++;
      }
    }
    if (red > 10) redTiles++;
  }
  assert.equal(redTiles, 4);

  const mistakes = mistakesView(test, predictions, CLASS_NAMES, 3).text.split(
    "\n",
  );
  assert.equal(mistakes[0], "The 3 most confident mistakes");
  assert.match(mistakes[3], /^\s+36\s/); // the surest wrong one: index 36
  assert.equal(mistakes.length, 6);

  const rows = predictionsView(test, predictions, CLASS_NAMES, [0, 1]).text
    .split("\n");
  assert.match(rows[3], /0\s+T-shirt\/top\s+Trouser 95\.0%, /);
  assert.match(rows[4], /1\s+Trouser\s+Trouser 95\.0%, /);

  assert.equal(
    topKView([0.1, 0.6, 0.3], ["Bag", "Coat", "Dress"]).text,
    "Top 3: Coat 60.0%, Dress 30.0%, Bag 10.0%",
  );
  assert.equal(
    topKView([0.05, 0.15, 0.5, 0.3], ["Bag", "Coat", "Dress", "Shirt"], 2)
      .text,
    "Top 2: Dress 50.0%, Shirt 30.0%",
  );
  const confusion = confusionMatrix(test.labels, predicted, 10);
  const cv = confusionView(confusion, CLASS_NAMES);
  assert.ok(cv.usesPlotly);
  assert.match(cv.text, /^Confusion matrix/);
  assert.match(
    perClassAccuracyView(confusion, CLASS_NAMES).text,
    /^Accuracy per class: T-shirt\/top 50\.0%, Trouser 100\.0%/,
  );
  assert.match(
    classBalanceView(test, CLASS_NAMES).text,
    /T-shirt\/top 4, Trouser 4/,
  );
  assert.match(
    historyView([record(1), record(2)]).text,
    /^epoch 1\/2 .*\nepoch 2\/2 /,
  );
});

Deno.test("data views: the class grid's size and caption, the pixel histogram's shares", async () => {
  // 2 per class, 28×28 shown 2× (56 px) with 2 px gaps: 10 rows of 58 px
  // plus the last gap is 582 px high.
  const grid = classGridView(split(20), CLASS_NAMES, 2);
  assert.match(
    grid.text,
    /^\[image \d+×582\] The first 2 images of each class \(28×28, shown 2×\)$/,
  );
  const png = (await grid.mime())["image/png"] as string;
  const img = decodePng(Uint8Array.from(atob(png), (c) => c.charCodeAt(0)));
  assert.equal(img.height, 582);
  // 8 pixels: five 0s, two 255s, one 7: 62.5 % black, 25.00 % white.
  const stats = pixelStatistics(
    {
      images: new Uint8Array([0, 0, 255, 0, 7, 0, 255, 0]),
      labels: new Uint8Array([0, 1]),
      count: 2,
    },
    2,
    4,
  );
  assert.equal(
    pixelHistogramView(stats).text,
    "Pixel values: 62.5% are 0 (black), 25.00% are 255",
  );
});

Deno.test("views of settings, data, backend and model", () => {
  assert.match(
    settingsView(notebookSettings({}, () => undefined)).text,
    /^full run: .*fast recipe.*\n[\s\S]*recipe\s+fast\n[\s\S]*epochs\s+5\n/,
  );
  const data = {
    train: split(10),
    test: split(7),
    classNames: CLASS_NAMES,
    source: "/data/here",
  };
  const dv = datasetView(data).text;
  assert.match(dv, /^Read from \/data\/here; each file's content matched/);
  // What was loaded, not the constants: this dataset has 10 and 7 items.
  assert.match(
    dv,
    /train-images-idx3-ubyte\s+train\s+images\s+10\s+c59f468a2f672dc8…\n/,
  );
  assert.match(dv, /t10k-labels-idx1-ubyte\s+test\s+labels\s+7\s+0402a96d/);
  assert.doesNotMatch(dv, /\bok\b/);
  assert.match(
    backendView(backendInfo, "4.22.0").text,
    /WebAssembly SIMD128\s+on/,
  );
  const model = buildMiniVGGNet({ seed: 3 });
  try {
    const text = modelView(model).text;
    assert.match(text, /^MiniVGGNet: 23 layers/);
    assert.match(text, /parameters\s+1,679,082/);
    assert.match(text, /trainable\s+1,677,674/);
    assert.match(text, /not trainable.*\s1,408$/m);
    assert.match(text, /forward pass, one image\s+39\.8 MFLOP/);
    assert.match(text, /\(batch, 28, 28, 32\)\s+320/);
  } finally {
    model.dispose();
  }
});

Deno.test("chart HTML draws in Chromium as JupyterLab and the classic Notebook insert it, fetching plotly.js once; says why when it cannot", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./jupyter/chart_loader.ts", import.meta.url).pathname,
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const report: Record<string, LoaderPageReport> = JSON.parse(
    new TextDecoder().decode(out.stdout),
  );
  for (const kind of ["lab", "classic"]) {
    const r = report[kind];
    assert.deepEqual(r.errors, [], kind);
    assert.equal(r.drawn, 2, `${kind}: ${r.texts}`);
    assert.equal(r.plotlyRequests.length, 1, `${kind}: ${r.plotlyRequests}`);
  }
  // JupyterLab: the address it resolved the marker to, cache-buster and all.
  assert.match(
    report.lab.plotlyRequests[0],
    /^\/files\/nb\/_static\/plotly-4\.1\.2\.min\.js\?\d+$/,
  );
  // Classic: the notebook's folder from the page, under the base URL.
  assert.equal(
    report.classic.plotlyRequests[0],
    "/files/nb/_static/plotly-4.1.2.min.js",
  );
  const missing = report.missing;
  assert.equal(missing.drawn, 0);
  assert.deepEqual(missing.errors, []);
  for (const t of missing.texts) {
    assert.match(
      t,
      /^Chart not drawn: plotly\.js did not load from _static\/plotly-4\.1\.2\.min\.js next to this notebook \(\/files\/elsewhere\/_static\/plotly-4\.1\.2\.min\.js: HTTP 404; .*\)\. The library writes that file when it shows a chart: run this cell again\.$/,
    );
  }
});

Deno.test("ensurePlotlyAsset writes the pinned plotly.js next to the notebook once, and says what is wrong when it cannot", async () => {
  const dir = await Deno.makeTempDir({ prefix: "plotly-asset-" });
  try {
    const path = await ensurePlotlyAsset(dir, PLOTLY_SRC);
    assert.equal(path, join(dir, PLOTLY_SRC));
    assert.equal(await Deno.readTextFile(path), await plotlyJsSource());
    assert.equal(
      ensurePlotlyAsset(dir, PLOTLY_SRC),
      ensurePlotlyAsset(dir, PLOTLY_SRC),
    );
    assert.deepEqual(
      [...Deno.readDirSync(join(dir, "_static"))].map((e) => e.name),
      ["plotly-4.1.2.min.js"],
    );
    await assert.rejects(
      ensurePlotlyAsset(dir, "_static/plotly-9.9.9.min.js"),
      /^Error: cannot write plotly\.js to .*plotly-9\.9\.9\.min\.js for the charts: node_modules has plotly\.js 4\.1\.2 where the charts expect 9\.9\.9; run `deno install` in the project root\.$/,
    );
    // A file where the folder should be.
    const blocked = join(dir, "blocked");
    await Deno.mkdir(blocked);
    await Deno.writeTextFile(join(blocked, "_static"), "not a folder");
    await assert.rejects(
      ensurePlotlyAsset(blocked, PLOTLY_SRC),
      /^Error: cannot write plotly\.js to .*blocked\/_static\/plotly-4\.1\.2\.min\.js for the charts: /,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
