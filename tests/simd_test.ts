/**
 * This project's WebAssembly kernels: the committed binaries are what the
 * AssemblyScript source compiles to, they import only the backend's memory,
 * and they work in place on tensors of the running backend.
 */
import assert from "node:assert/strict";
import { initWasmBackend, tf } from "../lib/mod.ts";
import { compileKernels, kernelsModuleText } from "../lib/cli/build_wasm.ts";
import { pointerOf, simdKernels } from "../lib/backend/simd/mod.ts";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

await initWasmBackend();

Deno.test("the committed kernels_wasm.ts is what kernels.as.ts compiles to (deno task build:wasm)", async () => {
  const committed = await Deno.readTextFile(
    new URL("../lib/backend/simd/kernels_wasm.ts", import.meta.url),
  );
  assert.equal(
    kernelsModuleText(await compileKernels()),
    committed,
    "run `deno task build:wasm` and commit the result",
  );
});

Deno.test("the kernels import nothing but memory and have no data to write into it", async () => {
  const { KERNELS_SHARED_WASM, KERNELS_PLAIN_WASM } = await import(
    "../lib/backend/simd/kernels_wasm.ts"
  );
  for (const b64 of [KERNELS_SHARED_WASM, KERNELS_PLAIN_WASM]) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const module = new WebAssembly.Module(bytes);
    assert.deepEqual(WebAssembly.Module.imports(module), [
      { module: "env", name: "memory", kind: "memory" },
    ]);
    assert.ok(
      WebAssembly.Module.exports(module).every((e) => e.kind === "function"),
    );
    // Section 11 is "data": an initialiser would overwrite tfjs's memory.
    let p = 8;
    while (p < bytes.length) {
      const id = bytes[p++];
      let size = 0, shift = 0, byte;
      do {
        byte = bytes[p++];
        size |= (byte & 0x7f) << shift;
        shift += 7;
      } while (byte & 0x80);
      assert.notEqual(id, 11, "the module has a data section");
      p += size;
    }
  }
});

Deno.test("transpose2d and im2colT work in place on the backend's tensors", () => {
  const backend = tf.backend() as BackendWasm;
  const k = simdKernels(backend);
  const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
  const t = tf.zeros([3, 2]);
  k.transpose2d(pointerOf(backend, x), pointerOf(backend, t), 2, 3);
  assert.deepEqual(Array.from(t.dataSync()), [1, 4, 2, 5, 3, 6]);
  // One 3×3 channel, 2×2 filter, stride 1, pad 1 on top/left: 3×3 outputs.
  const img = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
  const patches = tf.zeros([4, 9]);
  k.im2colT(
    pointerOf(backend, img),
    pointerOf(backend, patches),
    1,
    3,
    3,
    1,
    3,
    3,
    2,
    2,
    1,
    1,
    1,
    1,
  );
  assert.deepEqual(Array.from(patches.dataSync()), [
    ...[0, 0, 0, 0, 1, 2, 0, 4, 5], // tap (0, 0)
    ...[0, 0, 0, 1, 2, 3, 4, 5, 6], // tap (0, 1)
    ...[0, 1, 2, 0, 4, 5, 0, 7, 8], // tap (1, 0)
    ...[1, 2, 3, 4, 5, 6, 7, 8, 9], // tap (1, 1)
  ]);
  tf.dispose([x, t, img, patches]);
});

Deno.test("the plain-memory variant (tfjs's one-thread build) runs on plain memory", async () => {
  const { KERNELS_PLAIN_WASM } = await import(
    "../lib/backend/simd/kernels_wasm.ts"
  );
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
  const bytes = Uint8Array.from(
    atob(KERNELS_PLAIN_WASM),
    (c) => c.charCodeAt(0),
  );
  const k = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
    env: { memory },
  }).exports as unknown as { transpose2d: (...a: number[]) => void };
  const f = new Float32Array(memory.buffer);
  f.set([1, 2, 3, 4, 5, 6], 16);
  k.transpose2d(64, 256, 3, 2);
  assert.deepEqual(Array.from(f.subarray(64, 70)), [1, 3, 5, 2, 4, 6]);
});
