/**
 * Starting tfjs-wasm's multi-threaded (pthreads + SIMD) build under Deno.
 *
 * The build is emscripten output written for browsers and Node.js. Under
 * Deno it fails at its first worker (`ERR_WORKER_PATH`): emscripten spawns
 * each pthread worker from a `blob:` URL holding the worker script, and
 * tells it to `importScripts` the main script from another Blob — Deno's
 * `node:worker_threads` accepts neither. During start-up only, this module
 * puts a `Worker` class in front of `node:worker_threads` that
 *
 * - runs the worker script the package ships
 *   (`wasm-out/…threaded-simd.worker.js`) with `eval: true` instead of the
 *   blob, after making the globals it assigns (`self`, `postMessage`, …)
 *   writable, as they are in Node.js;
 * - rewrites the `load` message so the worker reads the emscripten glue from
 *   its file in `node_modules` instead of a Blob;
 * - ignores emscripten's `ref()` when a pthread starts on a worker:
 *   XNNPACK's pool threads run for ever, so a ref'd worker would keep every
 *   script alive after its work is done. emscripten itself `unref()`s each
 *   worker once it has loaded; until then the worker keeps the event loop
 *   alive, which start-up inside `Deno.test` needs (an unref'd worker there
 *   fails with "Promise resolution is still pending").
 *
 * Everything else — the shared `WebAssembly.Memory`, XNNPACK's thread pool —
 * is the package's own code, unchanged.
 *
 * @module
 */
import workerThreads from "node:worker_threads";
import os from "node:os";
import { createRequire } from "node:module";
import { tf, tfWasm } from "../tf.ts";

const require = createRequire(import.meta.url);
const WASM_OUT = "@tensorflow/tfjs-backend-wasm/wasm-out/";

/** Globals the worker script assigns, read-only in Deno's worker scope. */
const PRELUDE =
  `for (const k of ["location", "self", "performance", "postMessage", "importScripts", "Worker"]) {
  Object.defineProperty(globalThis, k, { value: globalThis[k], writable: true, configurable: true, enumerable: true });
}
`;

function pthreadWorkerClass(gluePath: string, workerScript: string) {
  const Base = workerThreads.Worker;
  // The shipped script is a template literal's value: re-escape its newlines
  // inside string literals, as tfjs does before making its blob.
  const source = PRELUDE + workerScript.replace(/\n/g, "\\n");
  return class PthreadWorker extends Base {
    constructor(
      file: string | URL,
      options?: ConstructorParameters<typeof Base>[1],
    ) {
      const blob = typeof file === "string" && file.startsWith("blob:");
      super(blob ? source : file, blob ? { eval: true } : options);
    }
    /** emscripten refs a worker while its pthread runs; XNNPACK's pool
     * threads run for ever, so that would keep every script alive. Their
     * work is always awaited by the main thread, so they never need to. */
    override ref(): void {}
    override postMessage(
      message: unknown,
      transfer?: readonly unknown[],
    ): void {
      const m = message as { cmd?: string; urlOrBlob?: unknown } | null;
      if (m?.cmd === "load" && typeof m.urlOrBlob !== "string") {
        message = { ...m, urlOrBlob: gluePath };
      }
      // deno-lint-ignore no-explicit-any
      super.postMessage(message, transfer as any);
    }
  };
}

/**
 * Starts the `wasm` backend from its threaded SIMD build with `threads`
 * compute threads (the calling thread included). Must run before the
 * backend is first initialised. Returns false when this runtime cannot
 * share WebAssembly memory between workers; the caller then falls back to
 * the single-threaded build.
 *
 * @example
 * ```ts
 * import { startThreadedBackend } from "./threads.ts";
 * await startThreadedBackend(2);
 * ```
 */
export async function startThreadedBackend(threads: number): Promise<boolean> {
  if (typeof SharedArrayBuffer === "undefined") return false;
  const gluePath = require.resolve(
    `${WASM_OUT}tfjs-backend-wasm-threaded-simd.js`,
  );
  const { wasmWorkerContents } = require(
    `${WASM_OUT}tfjs-backend-wasm-threaded-simd.worker.js`,
  ) as {
    wasmWorkerContents: string;
  };
  const module = workerThreads as unknown as { Worker: unknown };
  const osModule = os as unknown as { cpus: () => unknown[] };
  const saved = {
    Worker: module.Worker,
    global: globalThis.Worker,
    cpus: osModule.cpus,
  };
  module.Worker = pthreadWorkerClass(gluePath, wasmWorkerContents);
  // emscripten sizes its pre-started worker pool by `os.cpus().length` (it
  // reads nothing else), and a pool of `threads` workers is not enough for
  // XNNPACK's pool of `threads` (measured: threads stays 1); twice the count
  // is. Answering here also spares the caller `--allow-sys=cpus`.
  osModule.cpus = () => Array.from({ length: 2 * threads }, () => ({}));
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
  tfWasm.setThreadsCount(threads);
  try {
    return await tf.setBackend("wasm");
  } finally {
    module.Worker = saved.Worker;
    globalThis.Worker = saved.global;
    osModule.cpus = saved.cpus;
  }
}
