/**
 * The progress of `deno task notebooks`: the executor's progress lines
 * parsed, and shown as one status line on a terminal or as sparse lines in
 * a log, with a fake clock.
 */
import assert from "node:assert/strict";
import {
  NotebookProgress,
  parseProgressLine,
  PROGRESS_PREFIX,
} from "../lib/cli/notebook_progress.ts";

const cellLine = (cell: number, cells: number, source: string) =>
  PROGRESS_PREFIX + JSON.stringify({ cell, cells, source });
const textLine = (text: string) => PROGRESS_PREFIX + JSON.stringify({ text });

Deno.test("parseProgressLine: a cell's start, an output line, and anything else is not progress", () => {
  assert.deepEqual(parseProgressLine(cellLine(3, 9, "const x = 1;")), {
    cell: 3,
    cells: 9,
    source: "const x = 1;",
  });
  assert.deepEqual(parseProgressLine(textLine("epoch 1/5")), {
    text: "epoch 1/5",
  });
  for (
    const line of [
      "Traceback (most recent call last):",
      `${PROGRESS_PREFIX}{not json`,
      `${PROGRESS_PREFIX}{"cell": "3"}`,
      `${PROGRESS_PREFIX}null`,
      ` ${textLine("indented")}`,
    ]
  ) {
    assert.equal(parseProgressLine(line), null, line);
  }
});

/** A progress display with a clock the test moves, and what it wrote. */
function harness(terminal: boolean, columns = 80) {
  const out: string[] = [];
  let now = 0;
  const p = new NotebookProgress("03-train", {
    write: (s) => out.push(s),
    terminal,
    columns,
    now: () => now,
  });
  return {
    p,
    out,
    at(ms: number) {
      now = ms;
    },
  };
}

Deno.test("on a terminal: one status line, redrawn in place as cells start, outputs come and time passes, cleared at the end", () => {
  const h = harness(true);
  assert.equal(h.p.line("ordinary stderr"), false);
  assert.deepEqual(h.out, []);
  assert.equal(h.p.line(cellLine(5, 10, "const live = new Chart();")), true);
  assert.deepEqual(h.out, [
    "\r\x1b[K03-train · cell 5 of 10 · 0:00 · const live = new Chart();",
  ]);
  h.at(300);
  h.p.line(textLine("epoch 1/5 [===>   ] 12/63"));
  assert.equal(
    h.out.at(-1),
    "\r\x1b[K03-train · cell 5 of 10 · 0:00 · epoch 1/5 [===>   ] 12/63",
  );
  // Output lines within a quarter second of the last redraw wait for the next.
  h.at(400);
  h.p.line(textLine("epoch 1/5 [====>  ] 20/63"));
  assert.equal(h.out.length, 2);
  h.at(2000);
  h.p.tick();
  assert.equal(
    h.out.at(-1),
    "\r\x1b[K03-train · cell 5 of 10 · 0:02 · epoch 1/5 [====>  ] 20/63",
  );
  // A tick that changes nothing draws nothing.
  h.at(2400);
  h.p.tick();
  assert.equal(h.out.length, 3);
  h.p.done();
  assert.equal(h.out.at(-1), "\r\x1b[K");
  // Nothing shown, nothing to clear.
  const quiet = harness(true);
  quiet.p.done();
  assert.deepEqual(quiet.out, []);
});

Deno.test("on a terminal the status line is cut to the terminal's width", () => {
  const h = harness(true, 40);
  h.p.line(cellLine(1, 9, "x".repeat(100)));
  const shown = h.out[0].replace("\r\x1b[K", "");
  assert.equal([...shown].length, 39);
  assert.ok(shown.endsWith("x…"), shown);
});

Deno.test("in a log: a cell is announced after 10 s, then its latest output line every 30 s, never the same line twice", () => {
  const h = harness(false);
  h.p.line(cellLine(2, 9, "await show(view);"));
  h.at(9_000);
  h.p.tick();
  assert.deepEqual(h.out, [], "a short cell says nothing");
  h.p.line(cellLine(3, 9, "await train();"));
  h.p.line(textLine("epoch 1/5 [=>   ]"));
  h.at(18_999);
  h.p.tick();
  assert.deepEqual(h.out, []);
  h.at(19_000);
  h.p.tick();
  assert.deepEqual(h.out, [
    "03-train · cell 3 of 9 is running: await train();\n",
  ]);
  h.at(48_000);
  h.p.line(textLine("epoch 2/5 [=>   ]"));
  assert.equal(h.out.length, 1, "30 s after the announcement, not before");
  h.at(49_000);
  h.p.tick();
  assert.deepEqual(h.out.slice(1), [
    "03-train · cell 3 of 9, 0:40: epoch 2/5 [=>   ]\n",
  ]);
  h.at(90_000);
  h.p.tick();
  assert.equal(h.out.length, 2, "the same line is not logged again");
  h.p.line(textLine("epoch 3/5 [=>   ]"));
  assert.deepEqual(h.out.slice(2), [
    "03-train · cell 3 of 9, 1:21: epoch 3/5 [=>   ]\n",
  ]);
  h.p.done();
  assert.equal(h.out.length, 3, "nothing to clear in a log");
});
