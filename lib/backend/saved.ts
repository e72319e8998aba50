/**
 * The tensors an op saves for its gradient, released as soon as the
 * backward pass has used them, on the WASM backend.
 *
 * tfjs's engine keeps every saved tensor (MiniVGGNet's activations) until
 * the whole backward pass is over, although the backward pass visits each
 * op once, from the last to the first: the activations of the last layers
 * are dead long before the first layers' gradients are computed. Released
 * when the next op's gradient starts (by then every gradient of the op that
 * saved them has been computed), they lower the heap's peak and what
 * `spill.ts` must spill. The engine still disposes them at the end (a
 * second dispose does nothing); a saved tensor that a gradient returns as
 * it is, is kept. Higher-order gradients (a backward pass recorded on an
 * outer tape) and other backends keep tfjs's behaviour.
 *
 * @module
 */
import { tf } from "../tf.ts";

/** A gradient as tfjs's tape keeps it: one function per input. */
type Gradients = Record<string, () => tf.Tensor>;

/** What the engine's tape records of an op. */
interface TapeNode {
  gradient?: (dys: tf.Tensor[]) => Gradients;
}

/** The parts of tfjs's engine this module hooks. */
interface Engine {
  backendName: string;
  state: { activeTape: TapeNode[]; gradientDepth: number };
  addTapeNode(...args: unknown[]): void;
}

/** The last op whose gradient ran: its saved tensors, and those to keep. */
let pending: { saved: tf.Tensor[]; keep: Set<tf.Tensor> } | undefined;
/** Gradients being computed: a backward pass inside one leaves all alone. */
let computing = 0;
let installed = false;
let enabled = true;

/** `f()`, counted as a gradient being computed. */
function computingGradient<T>(f: () => T): T {
  computing++;
  try {
    return f();
  } finally {
    computing--;
  }
}

function releasePending(): void {
  if (pending === undefined) return;
  for (const t of pending.saved) if (!pending.keep.has(t)) t.dispose();
  pending = undefined;
}

/**
 * `gradient` (an op's) that marks the op's saved tensors for release when
 * the next op's gradient starts, keeping any that a gradient returns.
 */
function releasing(
  engine: Engine,
  gradient: NonNullable<TapeNode["gradient"]>,
  saved: tf.Tensor[],
): NonNullable<TapeNode["gradient"]> {
  return (dys) => {
    if (
      !enabled || computing > 0 || engine.state.gradientDepth !== 0 ||
      engine.backendName !== "wasm"
    ) return gradient(dys);
    releasePending();
    // A custom gradient computes here, tfjs's in the functions it returns.
    const grads = computingGradient(() => gradient(dys));
    const keep = new Set<tf.Tensor>();
    const kept: Gradients = {};
    for (const [name, grad] of Object.entries(grads)) {
      kept[name] = () => {
        const g = computingGradient(grad);
        if (saved.includes(g)) keep.add(g);
        return g;
      };
    }
    pending = { saved, keep };
    return kept;
  };
}

/**
 * Makes the engine release saved tensors early (see the module notes).
 * Idempotent; {@link initWasmBackend} calls it.
 *
 * @example
 * ```ts
 * import { installEarlySavedRelease } from "./saved.ts";
 * installEarlySavedRelease();
 * ```
 */
export function installEarlySavedRelease(): void {
  if (installed) return;
  installed = true;
  const engine = tf.engine() as unknown as Engine;
  const addTapeNode = engine.addTapeNode.bind(engine);
  engine.addTapeNode = (...args: unknown[]) => {
    addTapeNode(...args);
    const saved = args[4] as tf.Tensor[] | undefined;
    const tape = engine.state.activeTape;
    const node = tape[tape.length - 1];
    if (node?.gradient === undefined || !saved?.length) return;
    node.gradient = releasing(engine, node.gradient, saved);
  };
}

/**
 * Switches the early release on (the default) or off: off, saved tensors
 * live until the backward pass is over, as in tfjs. For tests.
 *
 * @example
 * ```ts
 * import { setEarlySavedRelease } from "./saved.ts";
 * setEarlySavedRelease(false); // tfjs's own behaviour again
 * ```
 */
export function setEarlySavedRelease(on: boolean): void {
  enabled = on;
  if (!on) releasePending();
}
