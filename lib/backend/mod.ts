/**
 * The WebAssembly (SIMD) backend, set up for training. Stock
 * `@tensorflow/tfjs-backend-wasm` 4.22 can run a conv net forward but not
 * train it: it has no `Conv2DBackpropFilter`, and its `MaxPoolGrad` drops
 * the gradient of all-negative windows. {@link initWasmBackend} registers
 * this project's kernels for those ops (and a faster input gradient), then
 * makes `wasm` the active backend.
 *
 * @example
 * ```ts
 * import { initWasmBackend } from "./mod.ts";
 * const info = await initWasmBackend({ threads: 1 });
 * console.log(info); // { backend: "wasm", simd: true, threads: 1 }
 * ```
 *
 * @module
 */
import { tf, tfWasm } from "../tf.ts";
import {
  conv2DBackpropFilter,
  conv2DBackpropFilterNaive,
  conv2DBackpropInput,
} from "./kernels/conv2d_grads.ts";
import { conv2D, fusedConv2D } from "./kernels/conv2d.ts";
import { maxPool, maxPoolGrad } from "./kernels/max_pool.ts";
import { multiply, realDiv, softmax, sub } from "./kernels/small_ops.ts";
import { add } from "./kernels/add.ts";
import { batchMatMul, fusedMatMul } from "./kernels/batch_mat_mul.ts";
import { cast, identity, slice } from "./kernels/identity.ts";
import { batchNorm } from "./kernels/batch_norm.ts";
import { mean, sum } from "./kernels/reductions.ts";
import { MOMENTUM_UPDATE, momentumUpdate } from "./kernels/momentum_update.ts";
import { ADAM_UPDATE, adamUpdate } from "./kernels/adam_update.ts";
import {
  BATCH_NORM_GRAD,
  batchNormGrad,
  registerBatchNormGradient,
  setBatchNormGradEnabled,
} from "./kernels/batch_norm_grad.ts";
import {
  BATCH_NORM_MOVING_UPDATE,
  BATCH_NORM_TRAINING,
  BATCH_NORM_TRAINING_GRAD,
  batchNormMovingUpdateKernel,
  batchNormTrainingGradKernel,
  batchNormTrainingKernel,
  setBatchNormTrainingEnabled,
} from "./kernels/batch_norm_train.ts";
import { type KernelArgs, rememberStock, stockKernel } from "./kernels/util.ts";
import { transpose } from "./kernels/transpose.ts";
import { DROPOUT_MASK, dropoutMaskKernel } from "./kernels/dropout_mask.ts";
import {
  INPUT_CONV,
  INPUT_CONV_GRAD,
  inputConvGradKernel,
  inputConvKernel,
  registerInputConvGradient,
  setInputConvEnabled,
} from "./kernels/input_conv.ts";
import {
  registerReluGradient,
  relu,
  RELU_GRAD,
  reluGrad,
  setReluGradEnabled,
} from "./kernels/relu.ts";
import { startThreadedBackend } from "./threads.ts";
import { installHeapSpill } from "./spill.ts";
import { installEarlySavedRelease } from "./saved.ts";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

/**
 * What {@link initWasmBackend} set up.
 *
 * @example
 * ```ts
 * import type { WasmBackendInfo } from "./mod.ts";
 * const info: WasmBackendInfo = { backend: "wasm", simd: true, threads: 1 };
 * ```
 */
export interface WasmBackendInfo {
  backend: "wasm";
  /** WebAssembly SIMD128 in use. */
  simd: boolean;
  /** Threads the backend computes with. */
  threads: number;
}

/**
 * Options of {@link initWasmBackend}.
 *
 * @example
 * ```ts
 * import type { WasmBackendOptions } from "./mod.ts";
 * const opts: WasmBackendOptions = { threads: 1 };
 * ```
 */
export interface WasmBackendOptions {
  /**
   * Threads to compute with (default: every core, up to 8, see
   * {@link defaultThreads}). More than one starts tfjs-wasm's threaded SIMD
   * build (see `threads.ts`); 1 starts the single-threaded SIMD build. Only
   * the first initialisation in a process decides; later calls report what
   * is running. More than the cores are clamped to the cores, with a warning
   * (see {@link chooseThreads}).
   */
  threads?: number;
  /**
   * Called with each one-line warning (threads clamped to the cores, the
   * threaded build failing to start); default `console.warn`.
   */
  onWarning?: (message: string) => void;
}

/** The kernels this project provides for the `wasm` backend. */
const OUR_KERNELS: Record<
  string,
  (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[]
> = {
  Add: add,
  [ADAM_UPDATE]: adamUpdate,
  BatchMatMul: batchMatMul,
  Cast: cast,
  [BATCH_NORM_GRAD]: batchNormGrad,
  [BATCH_NORM_MOVING_UPDATE]: batchNormMovingUpdateKernel,
  [BATCH_NORM_TRAINING]: batchNormTrainingKernel,
  [BATCH_NORM_TRAINING_GRAD]: batchNormTrainingGradKernel,
  Conv2D: conv2D,
  Conv2DBackpropFilter: conv2DBackpropFilter,
  Conv2DBackpropInput: conv2DBackpropInput,
  [DROPOUT_MASK]: dropoutMaskKernel,
  FusedBatchNorm: batchNorm,
  FusedConv2D: fusedConv2D,
  _FusedMatMul: fusedMatMul,
  Identity: identity,
  [INPUT_CONV]: inputConvKernel,
  [INPUT_CONV_GRAD]: inputConvGradKernel,
  MaxPool: maxPool,
  MaxPoolGrad: maxPoolGrad,
  Mean: mean,
  [MOMENTUM_UPDATE]: momentumUpdate,
  Multiply: multiply,
  RealDiv: realDiv,
  Relu: relu,
  [RELU_GRAD]: reluGrad,
  Slice: slice,
  Softmax: softmax,
  Sub: sub,
  Sum: sum,
  Transpose: transpose,
};

let registered = false;

/**
 * Registers this project's training kernels for the `wasm` backend,
 * replacing stock ones of the same name. Idempotent. Call it before the
 * backend starts (the stock kernels' set-up must run for our kernels to
 * call them); {@link initWasmBackend} does it for you.
 *
 * @example
 * ```ts
 * import { registerTrainingKernels } from "./mod.ts";
 * registerTrainingKernels();
 * ```
 */
export function registerTrainingKernels(): void {
  if (registered) return;
  for (const [kernelName, kernelFunc] of Object.entries(OUR_KERNELS)) {
    const stock = tf.getKernel(kernelName, "wasm");
    if (stock !== undefined) rememberStock(stock);
    installKernel(kernelName, kernelFunc);
  }
  registerBatchNormGradient();
  registerReluGradient();
  registerInputConvGradient();
  registered = true;
}

/**
 * Registers `kernelFunc` as the `wasm` kernel `kernelName`, replacing
 * whatever is registered. Keeps the stock kernel's set-up, which binds its
 * WASM functions: our kernels may call the stock one (runStock), and the
 * baseline runs it.
 */
function installKernel(kernelName: string, kernelFunc: unknown): void {
  if (tf.getKernel(kernelName, "wasm") !== undefined) {
    tf.unregisterKernel(kernelName, "wasm");
  }
  tf.registerKernel({
    kernelName,
    backendName: "wasm",
    setupFunc: stockKernel(kernelName)?.setupFunc,
    kernelFunc: kernelFunc as tf.KernelFunc,
  });
}

/**
 * Which kernels the `wasm` backend trains with: `"project"` (this
 * project's, the default) or `"baseline"` — stock tfjs-wasm 4.22 plus the
 * naive direct-loop filter gradient it lacks, and tfjs's own batch-norm
 * gradient: the starting point the benchmark compares against. The
 * baseline keeps stock MaxPoolGrad's bug; use it only for timing.
 *
 * @example
 * ```ts
 * import { useKernels } from "./mod.ts";
 * useKernels("baseline"); // time something
 * useKernels("project");
 * ```
 */
export function useKernels(set: "project" | "baseline"): void {
  registerTrainingKernels();
  const baseline: Record<string, unknown> = {
    Conv2DBackpropFilter: conv2DBackpropFilterNaive,
  };
  for (const [kernelName, ours] of Object.entries(OUR_KERNELS)) {
    const chosen = set === "baseline"
      ? stockKernel(kernelName)?.kernelFunc ?? baseline[kernelName] ?? ours
      : ours;
    installKernel(kernelName, chosen);
  }
  setBatchNormGradEnabled(set === "project");
  setBatchNormTrainingEnabled(set === "project");
  setReluGradEnabled(set === "project");
  setInputConvEnabled(set === "project");
}

/**
 * Makes the WebAssembly backend the active TensorFlow.js backend, with the
 * kernels training needs. Loads the backend's `.wasm` files from the
 * installed npm package (no network), and reports SIMD and threads.
 *
 * Asked for more threads than the machine has cores, it uses one per core
 * and warns (see {@link chooseThreads}).
 *
 * @throws {Error} when the WASM backend cannot start or `threads` is not a positive integer.
 * @example
 * ```ts
 * import { initWasmBackend } from "./mod.ts";
 * const { simd, threads } = await initWasmBackend();
 * ```
 */
export async function initWasmBackend(
  options: WasmBackendOptions = {},
): Promise<WasmBackendInfo> {
  const warn = options.onWarning ?? ((m: string) => console.warn(m));
  const { threads, warning } = chooseThreads(options.threads);
  registerTrainingKernels();
  if (tf.findBackend("wasm") === null) {
    if (warning) warn(warning);
    let ok = false;
    if (threads > 1) {
      ok = await startThreadedBackend(threads).catch((e) => {
        warn(
          `warning: the multi-threaded WASM build did not start (${
            (e as Error).message.split("\n")[0]
          }); running on one thread.`,
        );
        return false;
      });
    }
    if (!ok) {
      tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
      ok = await tf.setBackend("wasm");
    }
    if (!ok) {
      throw new Error(
        "The TensorFlow.js WASM backend failed to start; reinstall the npm packages (deno install) and try again.",
      );
    }
  } else if (tf.getBackend() !== "wasm") {
    await tf.setBackend("wasm");
  }
  await tf.ready();
  // Activations leave the heap once the backward pass has used them
  // (saved.ts); batches that still outgrow it spill (spill.ts).
  installEarlySavedRelease();
  installHeapSpill(tf.backend() as BackendWasm);
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT") as boolean;
  return { backend: "wasm", simd, threads: tfWasm.getThreadsCount() };
}

/** The most threads used when none is asked for. */
const MAX_DEFAULT_THREADS = 8;

/**
 * The number of threads used when none is asked for: one per core
 * (`navigator.hardwareConcurrency`), at most 8.
 *
 * @example
 * ```ts
 * import { defaultThreads } from "./mod.ts";
 * defaultThreads(); // 2 on a 2-core machine
 * ```
 */
export function defaultThreads(): number {
  const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
  return Math.max(1, Math.min(Math.floor(cores), MAX_DEFAULT_THREADS));
}

/** The cores this process may use (`navigator.hardwareConcurrency`). */
function coreCount(): number {
  return Math.max(
    1,
    Math.floor(globalThis.navigator?.hardwareConcurrency ?? 1),
  );
}

/**
 * What {@link chooseThreads} decided.
 *
 * @example
 * ```ts
 * import type { ThreadChoice } from "./mod.ts";
 * const choice: ThreadChoice = { threads: 2 };
 * ```
 */
export interface ThreadChoice {
  /** Threads to compute with. */
  threads: number;
  /** One line saying why fewer threads than asked are used, if so. */
  warning?: string;
}

/**
 * The thread count {@link initWasmBackend} starts with: `requested`, or
 * {@link defaultThreads} when it is undefined, but never more than the
 * cores (`cores`, default `navigator.hardwareConcurrency`): threads beyond
 * one per core only take turns on the cores, and every step then waits for
 * the slowest. A clamped choice carries a one-line warning saying so.
 *
 * @throws {Error} when `requested` is not a positive integer.
 * @example
 * ```ts
 * import { chooseThreads } from "./mod.ts";
 * chooseThreads(99, 2); // { threads: 2, warning: "warning: 99 threads asked for, …" }
 * chooseThreads(1, 2); // { threads: 1 }
 * ```
 */
export function chooseThreads(
  requested: number | undefined,
  cores: number = coreCount(),
): ThreadChoice {
  if (requested === undefined) {
    return { threads: Math.min(defaultThreads(), cores) };
  }
  if (!(Number.isInteger(requested) && requested >= 1)) {
    throw new Error(`threads must be a positive integer, got ${requested}.`);
  }
  if (requested <= cores) return { threads: requested };
  return {
    threads: cores,
    warning:
      `warning: ${requested} threads asked for, but this machine has ${cores} core${
        cores === 1 ? "" : "s"
      }; using ${cores} thread${
        cores === 1 ? "" : "s"
      } (threads beyond one per core only take turns on the cores and slow every step down).`,
  };
}
