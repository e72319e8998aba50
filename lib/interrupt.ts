/**
 * Interrupts: Jupyter's Stop button, and Ctrl-C, as a request to stop
 * rather than the end of the process.
 *
 * Jupyter interrupts the Deno kernel with SIGINT. Deno 2.9's kernel has no
 * handler of its own for it, so an interrupt with no listener ends the
 * kernel process: every variable of the notebook is lost. Inside the kernel,
 * the first {@link onInterrupt} therefore also installs a guard that stays:
 * from then on Stop never ends the kernel; while a handler is registered
 * (training, see `trainModel`) it calls the handler, and otherwise does
 * nothing. Outside Jupyter (`deno task train`) a handler is a plain SIGINT
 * listener, removed again when done, so Ctrl-C ends a script as usual
 * outside training.
 *
 * @example
 * ```ts
 * import { onInterrupt } from "./interrupt.ts";
 * const controller = new AbortController();
 * const stopListening = onInterrupt(() => controller.abort());
 * try {
 *   // long work that checks controller.signal.aborted now and then
 * } finally {
 *   stopListening();
 * }
 * ```
 *
 * @module
 */

/**
 * True when this code runs in the Deno Jupyter kernel.
 *
 * @example
 * ```ts
 * import { inJupyterKernel } from "./interrupt.ts";
 * console.log(inJupyterKernel()); // false in a script
 * ```
 */
export function inJupyterKernel(): boolean {
  try {
    // Outside the kernel, reading `Deno.jupyter` throws.
    return typeof Deno.jupyter?.broadcast === "function";
  } catch {
    return false;
  }
}

const handlers = new Set<() => void>();
let guardInstalled = false;

function dispatch(): void {
  for (const handler of [...handlers]) {
    try {
      handler();
    } catch {
      // one failing handler must not keep the others from stopping
    }
  }
}

/**
 * Inside the Deno kernel, makes an interrupt (SIGINT) call the registered
 * {@link onInterrupt} handlers instead of ending the kernel; installed once
 * and kept. Returns true if the guard is in place. Does nothing outside
 * the kernel.
 *
 * @example
 * ```ts
 * import { guardKernelInterrupts } from "./interrupt.ts";
 * guardKernelInterrupts(); // from now on, Stop cannot end this kernel
 * ```
 */
export function guardKernelInterrupts(): boolean {
  if (guardInstalled) return true;
  if (!inJupyterKernel()) return false;
  try {
    Deno.addSignalListener("SIGINT", dispatch);
    guardInstalled = true;
  } catch {
    // No signals on this platform: nothing to guard.
  }
  return guardInstalled;
}

/**
 * Calls `handler` on each interrupt (Jupyter's Stop, Ctrl-C) until the
 * returned function is called. In the Deno kernel the interrupt then never
 * ends the process (see {@link guardKernelInterrupts}); elsewhere SIGINT
 * ends the process again once no handler is registered.
 *
 * @example
 * ```ts
 * import { onInterrupt } from "./interrupt.ts";
 * let stop = false;
 * const off = onInterrupt(() => stop = true);
 * // … work until stop …
 * off();
 * ```
 */
export function onInterrupt(handler: () => void): () => void {
  const wrapped = () => handler();
  const kernel = guardKernelInterrupts();
  handlers.add(wrapped);
  let listening = false;
  if (!kernel) {
    try {
      Deno.addSignalListener("SIGINT", wrapped);
      listening = true;
    } catch {
      // No signals here (or not allowed): the handler is never called.
    }
  }
  return () => {
    handlers.delete(wrapped);
    if (listening) {
      listening = false;
      Deno.removeSignalListener("SIGINT", wrapped);
    }
  };
}

/**
 * Calls every registered handler as if an interrupt had arrived; for
 * tests, and for front ends that deliver Stop some other way.
 *
 * @example
 * ```ts
 * import { onInterrupt, simulateInterrupt } from "./interrupt.ts";
 * const off = onInterrupt(() => console.log("stopping"));
 * simulateInterrupt(); // prints "stopping"
 * off();
 * ```
 */
export function simulateInterrupt(): void {
  dispatch();
}
