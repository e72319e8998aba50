/**
 * The single import of TensorFlow.js and its WebAssembly backend. Every other
 * module (and every notebook, through `mod.ts`) uses this one `tf` instance,
 * so kernels registered here are the ones models run on.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * console.log(tf.version.tfjs); // "4.22.0"
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import * as tfWasm from "@tensorflow/tfjs-backend-wasm";

// Production mode: skips debug-only checks and the console banner that
// suggests tfjs-node (which this project deliberately does not use).
tf.enableProdMode();

export { tf, tfWasm };
