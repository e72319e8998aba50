/**
 * The public surface of the library: everything a notebook or script needs,
 * in the order data flows — data → model → backend → train → evaluate →
 * plots — plus the shared `tf` instance.
 *
 * @example
 * ```ts
 * import { buildMiniVGGNet, initWasmBackend, loadFashionMnist } from "./mod.ts";
 * await initWasmBackend();
 * const data = await loadFashionMnist();
 * const model = buildMiniVGGNet();
 * ```
 *
 * @module
 */
export { tf } from "./tf.ts";
export * from "./types.ts";
export * from "./data.ts";
export * from "./model.ts";
export * from "./backend/mod.ts";
