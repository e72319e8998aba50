import assert from "node:assert/strict";
import { initWasmBackend, tf } from "../lib/mod.ts";
import { ScheduledAdam } from "../lib/optimizer.ts";

await initWasmBackend();

/** Values with magnitudes over many octaves, some exactly zero. */
function values(n: number, seed: number): Float32Array {
  return tf.tidy(() => {
    const x = tf.mul(
      tf.randomNormal([n], 0, 1, "float32", seed),
      tf.exp(tf.randomUniform([n], -10, 4, "float32", seed + 1)),
    );
    const out = x.dataSync() as Float32Array;
    out[3] = 0;
    return Float32Array.from(out);
  });
}

Deno.test("ScheduledAdam on wasm: tfjs's Adam and the decoupled weight decay, bit for bit, in one kernel per variable", async () => {
  await tf.setBackend("wasm");
  const lr = 0.003, wd = 1e-2;
  const shapes = [[70, 6], [6], [3, 3, 2, 4]];
  const grads = (step: number) =>
    shapes.map((s, i) =>
      tf.tensor(values(s.reduce((a, b) => a * b), 100 * step + 7 * i + 1), s)
    );
  const start = shapes.map((s, i) => values(s.reduce((a, b) => a * b), 50 + i));
  const run = async (fused: boolean) => {
    const vars = shapes.map((s, i) => tf.variable(tf.tensor(start[i], s)));
    const opt = fused
      ? new ScheduledAdam(
        { kind: "time-decay", initial: lr, decay: 0 },
        10,
        0.9,
        0.999,
        1e-7,
        wd,
      )
      : new tf.AdamOptimizer(lr, 0.9, 0.999, 1e-7);
    const kernels: string[] = [];
    for (let step = 0; step < 4; step++) {
      const g = grads(step);
      const list = vars.map((v, i) => ({ name: v.name, tensor: g[i] }));
      if (fused) {
        const profile = await tf.profile(() => opt.applyGradients(list));
        kernels.push(...profile.kernels.map((k) => k.name));
      } else {
        opt.applyGradients(list);
        tf.tidy(() =>
          vars.forEach((v) => {
            if (v.rank >= 2) v.assign(tf.mul(v, tf.scalar(1 - lr * wd)));
          })
        );
      }
      tf.dispose(g);
    }
    const out = vars.map((v) => Array.from(v.dataSync()));
    tf.dispose(vars);
    opt.dispose();
    return { out, kernels };
  };
  const reference = await run(false);
  const fused = await run(true);
  assert.deepEqual(fused.out, reference.out);
  assert.equal(
    fused.kernels.filter((k) => k === "AdamUpdate").length,
    4 * shapes.length,
  );
  // None of the op-by-op update's kernels.
  for (const op of ["Add", "RealDiv", "Sqrt", "Square"]) {
    assert.ok(!fused.kernels.includes(op), `${op} in ${fused.kernels}`);
  }
  // The weights moved: the comparison is not of untouched values.
  assert.notDeepEqual(fused.out[0], Array.from(start[0]));
});
