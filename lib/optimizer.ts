/**
 * Keras-style SGD with momentum and time-based learning-rate decay, as the
 * seed recipe uses it (Keras 2's `SGD(lr, momentum, decay)`):
 *
 *     lr_t = lr0 / (1 + decay · t)      t = batches seen so far
 *     v    = momentum · v − lr_t · g
 *     w    = w + v
 *
 * tfjs's own `MomentumOptimizer` accumulates raw gradients and scales by the
 * current rate (`w −= lr_t · (m·a + g)`), which differs once the rate
 * decays; this class follows Keras exactly. {@link ScheduledMomentumSGD}
 * is the same update with any schedule of the recipes (`recipes.ts`) and
 * an L2 weight decay.
 *
 * @example
 * ```ts
 * import { DecayedMomentumSGD } from "./optimizer.ts";
 * const opt = new DecayedMomentumSGD(0.01, 0.9, 0.01 / 25);
 * opt.learningRateAt(2500); // 0.005
 * ```
 *
 * @module
 */
import { tf } from "./tf.ts";
import { MOMENTUM_UPDATE } from "./backend/kernels/momentum_update.ts";
import {
  ADAM_UPDATE,
  type AdamUpdateAttrs,
} from "./backend/kernels/adam_update.ts";
import { learningRateAt, type LearningRateSchedule } from "./recipes.ts";

/**
 * An optimizer's state as plain numbers, for checkpoints: the step count,
 * scalar accumulators (Adam's β₁ᵗ and β₂ᵗ), and one slot array per
 * trainable weight and kind of slot (SGD: velocities; Adam: first moments,
 * then second moments), in the model's trainable-weight order; `null`
 * where a slot does not exist yet (before the first step).
 *
 * @example
 * ```ts
 * import { DecayedMomentumSGD, type OptimizerState } from "./optimizer.ts";
 * import { tf } from "./tf.ts";
 * const w = tf.variable(tf.ones([2]));
 * const state: OptimizerState = new DecayedMomentumSGD(0.1, 0.9, 0).exportState([w]);
 * state.slots; // [null]: no step taken yet
 * ```
 */
export interface OptimizerState {
  iterations: number;
  scalars: number[];
  slots: (Float32Array | null)[];
}

/** Copies a tensor's values out (a new array, not a view). */
function valuesOf(t: tf.Tensor): Float32Array {
  return Float32Array.from(t.dataSync() as Float32Array);
}

/** Checks that `state` has `expected` slots of the weights' sizes. */
function checkSlots(
  state: OptimizerState,
  weights: readonly tf.Variable[],
  perWeight: number,
): void {
  if (state.slots.length !== weights.length * perWeight) {
    throw new Error(
      `the optimizer state has ${state.slots.length} slots, the model needs ${
        weights.length * perWeight
      }.`,
    );
  }
  state.slots.forEach((slot, i) => {
    const w = weights[i % weights.length];
    if (slot !== null && slot.length !== w.size) {
      throw new Error(
        `optimizer slot ${i} has ${slot.length} values, its weight ${w.size}.`,
      );
    }
  });
}

/**
 * SGD with momentum and per-batch time-based decay (Keras 2 semantics).
 *
 * @example
 * ```ts
 * import { DecayedMomentumSGD } from "./optimizer.ts";
 * import { tf } from "./tf.ts";
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 10, inputShape: [784] })] });
 * model.compile({ optimizer: new DecayedMomentumSGD(0.01, 0.9, 4e-4), loss: "categoricalCrossentropy" });
 * ```
 */
export class DecayedMomentumSGD extends tf.Optimizer {
  /** Name used by tfjs serialization. */
  static className = "DecayedMomentumSGD";
  private velocities = new Map<string, tf.Variable>();
  /** L2 penalty added to the gradients of kernels (variables of rank ≥ 2). */
  protected weightDecay = 0;

  constructor(
    readonly initialLearningRate: number,
    readonly momentum: number,
    readonly decay: number,
  ) {
    super();
  }

  /** The learning rate in force for batch number `t` (0-based). */
  learningRateAt(t: number): number {
    return this.initialLearningRate / (1 + this.decay * t);
  }

  /** The learning rate the next batch will use. */
  get learningRate(): number {
    return this.learningRateAt(this.iterations);
  }

  applyGradients(
    variableGradients: tf.NamedTensorMap | {
      name: string;
      tensor: tf.Tensor;
    }[],
  ): void {
    const entries = Array.isArray(variableGradients)
      ? variableGradients.map((g) => [g.name, g.tensor] as const)
      : Object.entries(variableGradients);
    const lr = this.learningRate;
    tf.tidy(() => {
      for (const [name, grad] of entries) {
        if (grad == null) continue;
        const value = tf.engine().registeredVariables[name];
        const g = this.weightDecay > 0 && value.rank >= 2
          ? tf.add(grad, tf.mul(value, tf.scalar(this.weightDecay)))
          : grad;
        let v = this.velocities.get(name);
        if (v === undefined) {
          v = tf.variable(tf.zerosLike(value), false);
          this.velocities.set(name, v);
        }
        const [next, updated] = this.update(value, v, g, lr);
        v.assign(next);
        value.assign(updated);
      }
    });
    this.incrementIterations();
  }

  /**
   * `[v', w']` for one variable: in one kernel where the backend has it
   * (WASM, see `backend/kernels/momentum_update.ts`), else as tfjs ops.
   * Both round alike, so they agree exactly.
   */
  private update(
    w: tf.Tensor,
    v: tf.Tensor,
    g: tf.Tensor,
    lr: number,
  ): [tf.Tensor, tf.Tensor] {
    if (
      w.dtype === "float32" && g.dtype === "float32" &&
      tf.getKernel(MOMENTUM_UPDATE, tf.getBackend()) !== undefined
    ) {
      return tf.engine().runKernel(MOMENTUM_UPDATE, { w, v, g }, {
        momentum: this.momentum,
        learningRate: lr,
      }) as unknown as [tf.Tensor, tf.Tensor];
    }
    const next = tf.add(
      tf.mul(tf.scalar(this.momentum), v),
      tf.mul(tf.scalar(-lr), g),
    );
    return [next, tf.add(w, next)];
  }

  /**
   * The state to checkpoint: iterations and one velocity per weight of
   * `weights` (the model's trainable variables, in order).
   *
   * @example
   * ```ts
   * import { DecayedMomentumSGD } from "./optimizer.ts";
   * import { tf } from "./tf.ts";
   * const w = tf.variable(tf.ones([2]));
   * const opt = new DecayedMomentumSGD(0.1, 0.9, 0);
   * opt.applyGradients({ [w.name]: tf.ones([2]) });
   * opt.exportState([w]).slots[0]; // Float32Array [-0.1, -0.1]: v = −lr · g
   * ```
   */
  exportState(weights: readonly tf.Variable[]): OptimizerState {
    return {
      iterations: this.iterations,
      scalars: [],
      slots: weights.map((w) => {
        const v = this.velocities.get(w.name);
        return v === undefined ? null : valuesOf(v);
      }),
    };
  }

  /**
   * Sets the state from {@link exportState}'s output, for the weights of
   * a freshly built model of the same architecture.
   *
   * @example
   * ```ts
   * import { DecayedMomentumSGD } from "./optimizer.ts";
   * import { tf } from "./tf.ts";
   * const w = tf.variable(tf.ones([2]));
   * const opt = new DecayedMomentumSGD(0.1, 0.9, 0);
   * opt.importState({ iterations: 7, scalars: [], slots: [new Float32Array(2)] }, [w]);
   * opt.iterations; // 7
   * ```
   */
  importState(state: OptimizerState, weights: readonly tf.Variable[]): void {
    checkSlots(state, weights, 1);
    for (const v of this.velocities.values()) v.dispose();
    this.velocities.clear();
    weights.forEach((w, i) => {
      const slot = state.slots[i];
      if (slot === null) return;
      this.velocities.set(w.name, tf.variable(tf.tensor(slot, w.shape), false));
    });
    this.iterations_ = state.iterations;
  }

  override dispose(): void {
    for (const v of this.velocities.values()) v.dispose();
    this.velocities.clear();
    super.dispose();
  }

  getConfig(): tf.serialization.ConfigDict {
    return {
      initialLearningRate: this.initialLearningRate,
      momentum: this.momentum,
      decay: this.decay,
    };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config.initialLearningRate, config.momentum, config.decay);
  }
}

tf.serialization.registerClass(DecayedMomentumSGD);

/**
 * SGD with momentum (the same update as {@link DecayedMomentumSGD}) whose
 * learning rate follows a recipe's schedule over a run of `totalSteps`
 * batches, with an optional L2 weight decay on the kernels of the
 * convolutions and dense layers (`g + weightDecay · w`; biases and batch
 * norm are not decayed).
 *
 * @example
 * ```ts
 * import { ScheduledMomentumSGD } from "./optimizer.ts";
 * const opt = new ScheduledMomentumSGD(
 *   { kind: "one-cycle", peak: 0.1, warmupFraction: 0.2, startFactor: 0.1, endFactor: 0.002 },
 *   2150, 0.9, 5e-4,
 * );
 * opt.learningRateAt(430); // 0.1, the peak
 * ```
 */
export class ScheduledMomentumSGD extends DecayedMomentumSGD {
  /** Name used by tfjs serialization. */
  static override className = "ScheduledMomentumSGD";

  constructor(
    readonly schedule: LearningRateSchedule,
    readonly totalSteps: number,
    momentum: number,
    weightDecay = 0,
  ) {
    super(learningRateAt(schedule, 0, totalSteps), momentum, 0);
    this.weightDecay = weightDecay;
  }

  /** The learning rate in force for batch number `t` (0-based). */
  override learningRateAt(t: number): number {
    return learningRateAt(this.schedule, t, this.totalSteps);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      schedule: { ...this.schedule },
      totalSteps: this.totalSteps,
      momentum: this.momentum,
      weightDecay: this.weightDecay,
    };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(
      config.schedule,
      config.totalSteps,
      config.momentum,
      config.weightDecay,
    );
  }
}
tf.serialization.registerClass(ScheduledMomentumSGD);

/**
 * Adam whose learning rate follows a recipe's schedule over a run of
 * `totalSteps` batches, with weight decay decoupled from the gradient
 * (AdamW: after each step, kernels of rank ≥ 2 shrink by
 * `lr · weightDecay`; biases and batch norm do not).
 *
 * @example
 * ```ts
 * import { ScheduledAdam } from "./optimizer.ts";
 * const opt = new ScheduledAdam(
 *   { kind: "one-cycle", peak: 0.002, warmupFraction: 0.2, startFactor: 0.1, endFactor: 0.002 },
 *   2150, 0.9, 0.999, 1e-7, 1e-4,
 * );
 * opt.learningRateAt(430); // 0.002, the peak
 * ```
 */
export class ScheduledAdam extends tf.AdamOptimizer {
  private step = 0;

  constructor(
    readonly schedule: LearningRateSchedule,
    readonly totalSteps: number,
    beta1: number,
    beta2: number,
    epsilon: number,
    readonly weightDecay = 0,
  ) {
    super(learningRateAt(schedule, 0, totalSteps), beta1, beta2, epsilon);
  }

  /** The learning rate in force for batch number `t` (0-based). */
  learningRateAt(t: number): number {
    return learningRateAt(this.schedule, t, this.totalSteps);
  }

  override applyGradients(
    variableGradients: Parameters<tf.AdamOptimizer["applyGradients"]>[0],
  ): void {
    this.learningRate = this.learningRateAt(this.step);
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((g) => g.name)
      : Object.keys(variableGradients);
    if (tf.getKernel(ADAM_UPDATE, tf.getBackend()) !== undefined) {
      this.fusedStep(variableGradients, names);
    } else {
      super.applyGradients(variableGradients);
      if (this.weightDecay > 0) {
        const keep = 1 - this.learningRate * this.weightDecay;
        tf.tidy(() => {
          for (const name of names) {
            const value = tf.engine().registeredVariables[name];
            if (value.rank >= 2) value.assign(tf.mul(value, tf.scalar(keep)));
          }
        });
      }
    }
    this.step++;
  }

  /**
   * tfjs's Adam step and the weight decay, one kernel call per variable
   * (`backend/kernels/adam_update.ts`: the same values, in one pass).
   */
  private fusedStep(
    variableGradients: Parameters<tf.AdamOptimizer["applyGradients"]>[0],
    names: string[],
  ): void {
    const self = this as unknown as AdamInternals;
    const keep = this.weightDecay > 0
      ? 1 - this.learningRate * this.weightDecay
      : null;
    tf.tidy(() => {
      // tfjs's `sub(1, accBeta)`: a float32 subtraction.
      const oneMinusAccBeta1 = Math.fround(1 - self.accBeta1.dataSync()[0]);
      const oneMinusAccBeta2 = Math.fround(1 - self.accBeta2.dataSync()[0]);
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        for (
          const [slots, suffix] of [
            [self.accumulatedFirstMoment, "m"],
            [self.accumulatedSecondMoment, "v"],
          ] as const
        ) {
          slots[i] ??= {
            originalName: `${name}/${suffix}`,
            variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
          };
        }
        const gradient = Array.isArray(variableGradients)
          ? variableGradients[i].tensor
          : variableGradients[name];
        if (gradient == null) return;
        const m = self.accumulatedFirstMoment[i].variable;
        const v = self.accumulatedSecondMoment[i].variable;
        const attrs: AdamUpdateAttrs = {
          beta1: this.beta1,
          beta2: this.beta2,
          oneMinusAccBeta1,
          oneMinusAccBeta2,
          epsilon: this.epsilon,
          learningRate: this.learningRate,
          keep: value.rank >= 2 ? keep : null,
        };
        const [w2, m2, v2] = tf.engine().runKernel(
          ADAM_UPDATE,
          { w: value, m, v, g: gradient },
          attrs as unknown as tf.NamedAttrMap,
        ) as tf.Tensor[];
        m.assign(m2);
        v.assign(v2);
        value.assign(w2);
      });
      self.accBeta1.assign(tf.mul(self.accBeta1, this.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }

  /**
   * The state to checkpoint: the step, β₁ᵗ and β₂ᵗ exactly as accumulated,
   * and the first and second moments of each of `weights` (the model's
   * trainable variables, in order).
   *
   * @example
   * ```ts
   * import { ScheduledAdam } from "./optimizer.ts";
   * import { tf } from "./tf.ts";
   * const w = tf.variable(tf.ones([2]));
   * const adam = new ScheduledAdam({ kind: "time-decay", initial: 1e-3, decay: 0 }, 100, 0.9, 0.999, 1e-7);
   * adam.applyGradients([{ name: w.name, tensor: tf.ones([2]) }]);
   * adam.exportState([w]).scalars; // [0.81, 0.998001]: β₁ and β₂ to the power steps + 1
   * ```
   */
  exportState(weights: readonly tf.Variable[]): OptimizerState {
    const self = this as unknown as AdamInternals;
    const slot = (list: AdamInternals["accumulatedFirstMoment"], i: number) =>
      list[i] == null ? null : valuesOf(list[i].variable);
    return {
      iterations: this.step,
      scalars: [
        self.accBeta1.dataSync()[0],
        self.accBeta2.dataSync()[0],
      ],
      slots: [
        ...weights.map((_, i) => slot(self.accumulatedFirstMoment, i)),
        ...weights.map((_, i) => slot(self.accumulatedSecondMoment, i)),
      ],
    };
  }

  /**
   * Sets the state from {@link exportState}'s output, for the weights of
   * a freshly built model of the same architecture.
   *
   * @example
   * ```ts
   * import { ScheduledAdam } from "./optimizer.ts";
   * import { tf } from "./tf.ts";
   * const w = tf.variable(tf.ones([2]));
   * const adam = new ScheduledAdam({ kind: "time-decay", initial: 1e-3, decay: 0 }, 100, 0.9, 0.999, 1e-7);
   * const m = new Float32Array(2), v = new Float32Array(2);
   * adam.importState({ iterations: 3, scalars: [0.9 ** 3, 0.999 ** 3], slots: [m, v] }, [w]);
   * ```
   */
  importState(state: OptimizerState, weights: readonly tf.Variable[]): void {
    checkSlots(state, weights, 2);
    const self = this as unknown as AdamInternals;
    tf.dispose([
      ...self.accumulatedFirstMoment.map((m) => m.variable),
      ...self.accumulatedSecondMoment.map((m) => m.variable),
    ]);
    const slots = (offset: number, suffix: string) =>
      weights.map((w, i) => {
        const values = state.slots[offset + i];
        return values === null ? undefined! : {
          originalName: `${w.name}/${suffix}`,
          variable: tf.variable(tf.tensor(values, w.shape), false),
        };
      });
    self.accumulatedFirstMoment = slots(0, "m");
    self.accumulatedSecondMoment = slots(weights.length, "v");
    tf.tidy(() => {
      self.accBeta1.assign(tf.scalar(state.scalars[0]));
      self.accBeta2.assign(tf.scalar(state.scalars[1]));
    });
    this.step = state.iterations;
    this.iterations_ = state.iterations;
  }
}

/** The fields of tfjs's `AdamOptimizer` a checkpoint needs (private there). */
interface AdamInternals {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
}
