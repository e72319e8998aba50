/**
 * Small helpers for kernels written against the WASM backend: calling
 * other registered kernels, and reading/writing tensor memory on the WASM
 * heap.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

/** A tensor as kernels see it: shape, dtype and a handle to its data. */
export type TensorInfo = tf.TensorInfo;
/** The arguments a kernel function receives. */
export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
  attrs?: tf.NamedAttrMap;
}

/**
 * Runs another kernel registered for the `wasm` backend and returns its
 * output. The caller disposes the result with {@link release} when it is an
 * intermediate value.
 */
export function runKernel(
  backend: BackendWasm,
  name: string,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap = {},
): TensorInfo {
  const config = tf.getKernel(name, "wasm");
  if (config === undefined) {
    throw new Error(`kernel ${name} is not registered for wasm`);
  }
  return config.kernelFunc({ inputs, backend, attrs }) as TensorInfo;
}

const stockKernels = new Map<string, tf.KernelConfig>();

/**
 * Remembers the stock kernel a project kernel replaces, so the replacement
 * can still call it (see {@link runStock}).
 */
export function rememberStock(config: tf.KernelConfig): void {
  if (!stockKernels.has(config.kernelName)) {
    stockKernels.set(config.kernelName, config);
  }
}

/** The stock kernel configuration remembered for `name`, if any. */
export function stockKernel(name: string): tf.KernelConfig | undefined {
  return stockKernels.get(name);
}

/** Runs the stock WASM kernel `name` that a project kernel replaced. */
export function runStock(
  backend: BackendWasm,
  name: string,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap = {},
): TensorInfo {
  const config = stockKernels.get(name);
  if (config === undefined) {
    throw new Error(`no stock wasm kernel ${name} was remembered`);
  }
  return config.kernelFunc({ inputs, backend, attrs }) as TensorInfo;
}

/** Frees an intermediate tensor made inside a kernel. */
export function release(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/**
 * A `Float32Array` view of a tensor's memory on the WASM heap. Views go stale
 * when the heap grows, so take them after every allocation of the kernel.
 */
export function heapF32(backend: BackendWasm, info: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/**
 * Replaces tfjs's gradient of `kernelName` with `make(stock)`, a gradient
 * that may fall back to the stock one it is given; marked with
 * `replacedBy`, so a second call does nothing.
 *
 * @throws {Error} when tfjs has no gradient of `kernelName`.
 */
export function replaceGradient(
  kernelName: string,
  replacedBy: string,
  make: (stock: tf.GradConfig) => tf.GradConfig["gradFunc"],
): void {
  const stock = tf.getGradient(kernelName);
  if (stock === undefined) {
    throw new Error(`tfjs has no ${kernelName} gradient to replace`);
  }
  if ((stock as { replacedBy?: string }).replacedBy === replacedBy) return;
  const config: tf.GradConfig & { replacedBy: string } = {
    kernelName,
    inputsToSave: stock.inputsToSave,
    replacedBy,
    gradFunc: make(stock),
  };
  tf.registerGradient(config);
}
