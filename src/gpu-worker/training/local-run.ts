import { Adam } from './adam';
import { denoisingLoss, drawStep, evaluationLoss, type LatentSet } from './denoising-loss';
import { disposeLora, encodeLora, initialLora, loraFromCheckpoint, loraVariables, type LoraState } from './lora-state';
import { SampleRenderer } from './samples';
import { tf } from './tf';
import { TinyUnet, type LoraPairs } from './tiny-network';
import type { TinyWeights } from './tiny-weights';
import { TrainingError, type TrainingHooks, type TrainingResult, type TrainingSpec } from './types';

/** What a run trains on, prepared by LocalTrainer.prepare. */
export interface RunInputs {
  weights: TinyWeights;
  /** Per-image text conditions [count, hiddenSize]. */
  text: { data: Float32Array; hiddenSize: number };
  /** Per-image latents NHWC [count, resolution/8, resolution/8, 4]. */
  latents: Float32Array;
  reconstructionError: number;
  count: number;
  datasetHash: string;
}

/** The training timesteps the draws pick from: [minTimestep, the schedule's length). */
function timestepRange(spec: TrainingSpec, w: TinyWeights): { min: number; max: number } {
  return { min: spec.minTimestep ?? 0, max: w.unet.alphasCumprod.length };
}

/**
 * Steps between two evaluations (besides step 0, the save points and the
 * last step): every 10 steps, at most about 50 in a run. One evaluation costs
 * about two training steps of batch 4 on eight images, so this adds about a
 * fifth to the stepping of a short run, less to a long one, and little to
 * the run's wall time (docs/training.md, "Losses reported").
 */
export function evaluationInterval(steps: number): number {
  return Math.max(10, Math.ceil(steps / 50));
}

type Curve = Array<{ step: number; loss: number }>;

/**
 * One training run of the local trainer: the LoRA, the optimizer and the
 * loss curves, stepped until `spec.steps`, evaluating at its cadence,
 * checkpointing and sampling at the save points. Everything random is drawn from (seed, step), so a run
 * resumed from a checkpoint continues exactly as the uninterrupted one.
 */
export class LocalRun {
  private readonly unet: TinyUnet;
  private readonly set: LatentSet;
  private readonly lora: LoraState;
  private readonly adam: Adam;
  private readonly lossCurve: Curve;
  private readonly evaluationCurve: Curve;
  private readonly samples: SampleRenderer;
  private step: number;

  constructor(private readonly spec: TrainingSpec, private readonly inputs: RunInputs, options: { sampleSteps: number }) {
    this.unet = new TinyUnet(inputs.weights.unet);
    const size = spec.resolution / 8;
    this.set = {
      latents: tf.tensor4d(inputs.latents, [inputs.count, size, size, 4]),
      text: tf.tensor2d(inputs.text.data, [inputs.count, inputs.text.hiddenSize]),
      count: inputs.count,
    };
    this.samples = new SampleRenderer(spec.modelDir, { prompts: spec.samplePrompts, seed: spec.seed, size: spec.resolution, steps: options.sampleSteps, guidanceScale: 1 });
    if (spec.resume) {
      const { adam, metadata } = Adam.restore(spec.resume.optimizerState, spec.learningRate);
      if (metadata.dataset_hash !== inputs.datasetHash) throw new TrainingError('INVALID_SPEC', 'resume: the checkpoint was trained on other images', 'resume');
      this.adam = adam;
      this.lora = loraFromCheckpoint(spec.resume.lora, this.unet.layers, spec.rank, spec.alpha);
      const restored = (curve: string | undefined) => (JSON.parse(curve ?? '[]') as Curve).filter((p) => p.step <= spec.resume!.step);
      this.lossCurve = restored(metadata.loss_curve);
      this.evaluationCurve = restored(metadata.evaluation_curve);
      this.step = spec.resume.step;
    } else {
      this.adam = new Adam(spec.learningRate);
      this.lora = initialLora(this.unet.layers, spec.rank, spec.alpha, spec.seed);
      this.lossCurve = [];
      this.evaluationCurve = [];
      this.step = 0;
    }
  }

  async execute(hooks: TrainingHooks, signal?: AbortSignal): Promise<TrainingResult> {
    const initialLoss = await this.evaluate(new Map());
    // A resumed run reported its earlier evaluations already (they came back with the checkpoint).
    if (this.step === 0) await this.report(hooks, initialLoss);
    if (this.step === 0 && hooks.onSample) await this.sample(hooks);
    const variables = loraVariables(this.lora);
    const started = Date.now();
    const from = this.step;
    while (this.step < this.spec.steps) {
      if (signal?.aborted) throw new TrainingError('CANCELLED', `training cancelled at step ${this.step}`);
      const loss = this.trainStep(variables);
      this.step += 1;
      this.lossCurve.push({ step: this.step, loss });
      const perStep = (Date.now() - started) / 1000 / (this.step - from);
      await hooks.onProgress?.({ step: this.step, totalSteps: this.spec.steps, loss, learningRate: this.spec.learningRate, etaSeconds: perStep * (this.spec.steps - this.step) });
      if (this.evaluatesNow()) await this.report(hooks, await this.evaluate(this.lora.pairs));
      await this.atSavePoint(hooks);
      // Let timers and I/O (an abort, a socket) run between steps even when no hook awaits anything.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const last = this.evaluationCurve.at(-1);
    const finalLoss = last?.step === this.step ? last.loss : await this.evaluate(this.lora.pairs);
    return {
      lora: await this.encodeLora(), lossCurve: [...this.lossCurve], evaluationCurve: [...this.evaluationCurve], finalLoss, initialLoss, datasetHash: this.inputs.datasetHash,
    };
  }

  private evaluate(lora: LoraPairs): Promise<number> {
    return evaluationLoss(this.unet, this.set, this.spec.seed, this.inputs.weights.unet.alphasCumprod, lora, this.spec.minSnrGamma);
  }

  /** Step 0 aside: every evaluationInterval steps, at the save points (so a checkpoint carries its point) and at the last step. */
  private evaluatesNow(): boolean {
    const { steps, saveEvery } = this.spec;
    return this.step % evaluationInterval(steps) === 0 || (saveEvery > 0 && this.step % saveEvery === 0) || this.step === steps;
  }

  private async report(hooks: TrainingHooks, loss: number): Promise<void> {
    this.evaluationCurve.push({ step: this.step, loss });
    await hooks.onEvaluation?.({ step: this.step, loss });
  }

  /** One optimizer step on the draw of the next step; returns its loss. */
  private trainStep(variables: Record<string, tf.Variable>): number {
    const { latents } = this.set;
    const [, h, w, c] = latents.shape;
    const draw = drawStep(this.spec.seed, this.step + 1, this.set.count, this.spec.batchSize, h * w * c, timestepRange(this.spec, this.inputs.weights));
    const abar = this.inputs.weights.unet.alphasCumprod;
    const { value, grads } = tf.variableGrads(() => denoisingLoss(this.unet, this.set, draw, abar, this.lora.pairs, this.spec.minSnrGamma), Object.values(variables));
    const byName = Object.fromEntries(Object.entries(variables).map(([name, v]) => [name, grads[v.name]]));
    this.adam.apply(variables, byName);
    const loss = value.dataSync()[0];
    tf.dispose([value, ...Object.values(grads)]);
    if (!Number.isFinite(loss)) throw new TrainingError('FAILED', `the loss diverged at step ${this.step + 1} (learning rate ${this.spec.learningRate} too high?)`);
    return loss;
  }

  private async atSavePoint(hooks: TrainingHooks): Promise<void> {
    const every = this.spec.saveEvery;
    const savePoint = every > 0 && this.step % every === 0;
    if (savePoint && hooks.onCheckpoint) {
      const lora = await this.encodeLora();
      const optimizerState = await this.adam.serialize({
        dataset_hash: this.inputs.datasetHash, loss_curve: JSON.stringify(this.lossCurve), evaluation_curve: JSON.stringify(this.evaluationCurve),
      });
      await hooks.onCheckpoint({ step: this.step, lora, optimizerState });
    }
    if ((savePoint || this.step === this.spec.steps) && hooks.onSample) await this.sample(hooks);
  }

  private async sample(hooks: TrainingHooks): Promise<void> {
    if (this.spec.samplePrompts.length === 0) return;
    await hooks.onSample?.({ step: this.step, images: await this.samples.render(await this.encodeLora()) });
  }

  private encodeLora(): Promise<Buffer> {
    return encodeLora(this.lora, {
      ss_network_module: 'networks.lora', ss_network_dim: String(this.spec.rank), ss_network_alpha: String(this.spec.alpha),
      ss_learning_rate: String(this.spec.learningRate), ss_steps: String(this.step), ss_seed: String(this.spec.seed),
      ss_resolution: `(${this.spec.resolution}, ${this.spec.resolution})`, ss_dataset_hash: this.inputs.datasetHash, atelier_trainer: 'local',
    });
  }

  async dispose(): Promise<void> {
    disposeLora(this.lora);
    this.adam.dispose();
    tf.dispose([this.set.latents, this.set.text]);
    this.unet.dispose();
    await this.samples.close();
  }
}
