import { parseSafetensors, toFloat32, writeSafetensors, type Float32TensorData } from '../lora/safetensors';
import { tf } from './tf';
import { TrainingError } from './types';

/**
 * Adam (Kingma & Ba) over named tfjs variables. The gradients come from
 * tfjs's autodiff; the update is written out here rather than taken from
 * tf.train.adam because a checkpoint must resume bit for bit: tf.train.adam
 * rebuilds its bias-correction powers with pow() on restore, which differs in
 * the last float32 bits from the running products it kept before. Here the
 * corrections are computed from the step count alone, so the state is just
 * the step and the two moments.
 */
export class Adam {
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(private readonly learningRate: number, private step = 0, private readonly beta1 = 0.9, private readonly beta2 = 0.999, private readonly epsilon = 1e-8) {}

  /** Applies one update: `grads` and `params` keyed alike. */
  apply(params: Record<string, tf.Variable>, grads: Record<string, tf.Tensor>): void {
    this.step += 1;
    const correction1 = 1 - this.beta1 ** this.step;
    const correction2 = 1 - this.beta2 ** this.step;
    tf.tidy(() => {
      for (const [name, param] of Object.entries(params)) {
        const g = grads[name];
        const m = this.moment(this.m, name, param);
        const v = this.moment(this.v, name, param);
        m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1)));
        v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
        const update = tf.div(tf.div(m, correction1), tf.add(tf.sqrt(tf.div(v, correction2)), this.epsilon));
        param.assign(tf.sub(param, tf.mul(update, this.learningRate)));
      }
    });
  }

  private moment(store: Map<string, tf.Variable>, name: string, like: tf.Tensor): tf.Variable {
    let t = store.get(name);
    if (!t) {
      t = tf.variable(tf.zerosLike(like), false);
      store.set(name, t);
    }
    return t;
  }

  /** The state as safetensors (`<name>.m`, `<name>.v`, metadata `step` plus `extra`). */
  async serialize(extra: Record<string, string> = {}): Promise<Buffer> {
    const tensors: Record<string, Float32TensorData> = {};
    for (const [suffix, store] of [['m', this.m], ['v', this.v]] as const) {
      for (const [name, t] of store) tensors[`${name}.${suffix}`] = { shape: t.shape, data: await t.data() as Float32Array };
    }
    return writeSafetensors(tensors, { ...extra, format: 'atelier-adam', step: String(this.step) });
  }

  /** Restores a state {@link serialize} wrote; returns its metadata. */
  static restore(bytes: Buffer, learningRate: number): { adam: Adam; metadata: Record<string, string> } {
    let parsed;
    try {
      parsed = parseSafetensors(bytes);
    } catch (error) {
      throw new TrainingError('INVALID_SPEC', `resume: the optimizer state is not readable (${(error as Error).message})`, 'resume');
    }
    const step = Number(parsed.metadata.step);
    if (parsed.metadata.format !== 'atelier-adam' || !Number.isInteger(step)) throw new TrainingError('INVALID_SPEC', 'resume: the optimizer state is not an Adam state of this trainer', 'resume');
    const adam = new Adam(learningRate, step);
    for (const [key, entry] of parsed.tensors) {
      const dot = key.lastIndexOf('.');
      const store = key.slice(dot + 1) === 'm' ? adam.m : adam.v;
      store.set(key.slice(0, dot), tf.variable(tf.tensor(toFloat32(entry), entry.shape), false));
    }
    return { adam, metadata: parsed.metadata };
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}
