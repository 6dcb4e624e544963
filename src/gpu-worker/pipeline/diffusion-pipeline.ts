import { sha256 } from '../../kernel/hashing';
import * as ort from 'onnxruntime-node';
import { LoraLoader } from '../lora/lora-file';
import { mergeLoras, type AdaptableWeight } from '../lora/merge';
import { PipelineError } from './errors';
import { loadModel, type LoadedModel } from './model-loader';
import { encodePng } from './png';
import { latentPreview } from './preview';
import { NoiseWalk, thumbnail, walkStates } from './latent-walk';
import { pngTextChunks, validateRequest, validateVideoRequest } from './request';
import { SeededRandom } from './rng';
import { runSampler, usesGuidance } from './sampler';
import { createScheduler, samplerForConfig, type Scheduler } from './scheduler';
import { batchNoise, batchStates, decodeImage, encodeText, imageGenerators, initialLatents, noisePredictor } from './stages';
import type {
  GeneratedImage, GenerationRequest, ImagePipeline, LoraApplication, PipelineLoadOptions, RunOptions, VideoRequest, VideoRunOptions,
} from './types';

const VAE_SCALE = 8;
/** Longest side of a frame preview, as for step previews. */
const FRAME_PREVIEW_SIZE = 64;

/**
 * A loaded diffusers-layout ONNX model ready to generate: the three sessions
 * stay open between runs. LoRAs are merged in JS and fed as UNet inputs, so
 * applying or swapping them never recreates a session.
 */
export class DiffusionPipeline implements ImagePipeline {
  private readonly loras = new LoraLoader();
  private readonly baseFeeds: Record<string, ort.Tensor>;
  private released = false;

  private constructor(private readonly model: LoadedModel) {
    this.baseFeeds = Object.fromEntries(model.adaptable.map((w) => [w.input, new ort.Tensor('float32', w.base, w.shape)]));
  }

  /** Loads a model directory; tries `executionProviders` in order, falling back to CPU. */
  static async load(modelDir: string, opts: PipelineLoadOptions = {}): Promise<DiffusionPipeline> {
    return new DiffusionPipeline(await loadModel(modelDir, {
      executionProviders: opts.executionProviders ?? ['cpu'], intraOpNumThreads: opts.intraOpNumThreads ?? 1, cpuMemArena: opts.cpuMemArena ?? true,
    }));
  }

  /** The execution provider the UNet actually runs on, e.g. 'cpu'. */
  get executionProvider(): string {
    return this.model.unet.executionProvider;
  }

  get modelDir(): string {
    return this.model.dir;
  }

  /** The model's name (model_index.json `atelier.name`, else the folder name). */
  get modelName(): string {
    return this.model.name;
  }

  /** sha256 over the sorted sha256s of the model's files (same as ModelRegistry). */
  get modelHash(): string {
    return this.model.modelHash;
  }

  get usable(): boolean {
    return !this.released;
  }

  /** Whether the UNet exposes LoRA-adaptable weights as inputs. */
  get supportsLora(): boolean {
    return this.model.adaptable.length > 0;
  }

  /** Approximate memory footprint: bytes of the ONNX component files. */
  get approxBytes(): number {
    return this.model.approxBytes;
  }

  /** The layers LoRAs can adapt (see describeLoraTargets). */
  get loraTargets(): readonly AdaptableWeight[] {
    return this.model.adaptable;
  }

  /**
   * Generates `count` images (seeds seed, seed+1, …). Same request, model and
   * LoRA files ⇒ identical PNG bytes.
   */
  async generate(req: GenerationRequest, opts: RunOptions = {}): Promise<GeneratedImage[]> {
    return encodeImages(await this.render(req, opts));
  }

  /**
   * The part of `generate` that runs the model (text encoder, sampler, VAE),
   * up to each image's pixels; `encodeImages` makes their PNGs, and needs no
   * model, so a thread may render the next request meanwhile.
   */
  async render(req: GenerationRequest, opts: RunOptions = {}): Promise<RenderedImage[]> {
    if (this.released) throw new PipelineError('MODEL_LOAD_FAILED', 'pipeline was released');
    validateRequest(req);
    const weightFeeds = await this.weightFeeds(req.loras ?? []);
    const started = Date.now();
    const guided = usesGuidance(req.guidanceScale);
    const states = await encodeText(this.model, guided ? [req.negativePrompt ?? '', req.prompt] : [req.prompt]);
    const latentDims = [this.model.latentChannels, req.height / VAE_SCALE, req.width / VAE_SCALE];
    const perImage = latentDims[0] * latentDims[1] * latentDims[2];
    const generators = imageGenerators(req.seed, req.count);
    const kind = req.sampler ?? samplerForConfig(this.model.scheduler);
    const scheduler = createScheduler(this.model.scheduler, req.steps, kind, batchNoise(generators));
    const final = await runSampler({
      scheduler,
      latents: initialLatents(generators, perImage, scheduler.initNoiseSigma),
      guidanceScale: req.guidanceScale,
      predict: noisePredictor(this.model, batchStates(states, req.count, guided), latentDims, weightFeeds),
      afterStep: (step, latents) => this.reportStep(req, opts, scheduler, { step, latents, latentDims, started }),
      signal: opts.signal,
    });
    opts.onSampled?.();
    const images: RenderedImage[] = [];
    for (let i = 0; i < req.count; i++) {
      images.push(await this.toPixels(req, scheduler.name, req.seed + i, final.subarray(i * perImage, (i + 1) * perImage), latentDims));
    }
    return images;
  }

  /**
   * Renders a clip as a walk through latent space (latent-walk.ts): each
   * frame is a full run at `req.steps`, from noise and text states
   * interpolated between keyframes. Frames go to `onFrame` in order. Every
   * frame's ancestral noise (for samplers that add noise) comes from the same
   * generator, drawn as an image with `seed` draws it, so it does not flicker.
   */
  async generateVideo(req: VideoRequest, opts: VideoRunOptions): Promise<void> {
    if (this.released) throw new PipelineError('MODEL_LOAD_FAILED', 'pipeline was released');
    validateVideoRequest(req);
    const weightFeeds = await this.weightFeeds(req.loras ?? []);
    const started = Date.now();
    const guided = usesGuidance(req.guidanceScale);
    const prompts = [req.prompt, req.endPrompt ?? req.prompt];
    const states = await encodeText(this.model, guided ? [req.negativePrompt ?? '', ...prompts] : prompts);
    const latentDims = [this.model.latentChannels, req.height / VAE_SCALE, req.width / VAE_SCALE];
    const perFrame = latentDims[0] * latentDims[1] * latentDims[2];
    const kind = req.sampler ?? samplerForConfig(this.model.scheduler);
    const schedulerForFrame = () => {
      const generator = new SeededRandom(req.seed);
      generator.normals(perFrame); // where an image's generator stands after its latents
      return createScheduler(this.model.scheduler, req.steps, kind, batchNoise([generator]));
    };
    const walk = new NoiseWalk(req.seed, perFrame, schedulerForFrame().initNoiseSigma, req.keyframeEvery);
    for (let index = 0; index < req.frames; index++) {
      const final = await runSampler({
        scheduler: schedulerForFrame(),
        latents: walk.at(index),
        guidanceScale: req.guidanceScale,
        predict: noisePredictor(this.model, walkStates(states, guided, index, req.frames), latentDims, weightFeeds),
        signal: opts.signal,
      });
      const { rgb, width, height } = await decodeImage(this.model, final, latentDims);
      const elapsedMs = Date.now() - started;
      const wantsPreview = Boolean(req.previewEvery) && (index % req.previewEvery! === 0 || index === req.frames - 1);
      const small = wantsPreview ? thumbnail(rgb, width, height, FRAME_PREVIEW_SIZE) : null;
      await opts.onFrame({
        index, frames: req.frames, rgb, width, height, elapsedMs,
        etaMs: Math.round((elapsedMs / (index + 1)) * (req.frames - index - 1)),
        preview: small ? await encodePng(small.rgb, small.width, small.height) : undefined,
      });
    }
  }

  /** Closes the ONNX sessions; the pipeline cannot be used afterwards. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await Promise.all([this.model.textEncoder.release(), this.model.unet.release(), this.model.vaeDecoder.release()]);
  }

  /** Base adaptable weights plus the merged LoRA deltas, as UNet feeds. */
  private async weightFeeds(loras: LoraApplication[]): Promise<Record<string, ort.Tensor>> {
    if (loras.length === 0) return this.baseFeeds;
    if (!this.supportsLora) {
      throw new PipelineError('LORA_UNSUPPORTED', `model ${this.model.name} exposes no LoRA-adaptable layers`, { field: 'loras' });
    }
    const files = [];
    for (const l of loras) files.push({ name: l.name, weight: l.weight, file: await this.loras.load(l.path) });
    const merged = mergeLoras(this.model.adaptable, files);
    const feeds = { ...this.baseFeeds };
    for (const w of this.model.adaptable) {
      const data = merged.get(w.input);
      if (data) feeds[w.input] = new ort.Tensor('float32', data, w.shape);
    }
    return feeds;
  }

  private async reportStep(req: GenerationRequest, opts: RunOptions, scheduler: Scheduler,
    s: { step: number; latents: Float32Array; latentDims: number[]; started: number }): Promise<void> {
    if (!opts.onStep) return;
    const elapsedMs = Date.now() - s.started;
    const total = scheduler.timesteps.length;
    // Decoding costs roughly one step per image on this kind of model; good enough for an ETA.
    const etaMs = Math.round((elapsedMs / s.step) * (total - s.step + req.count));
    let preview: Buffer | undefined;
    if (req.previewEvery && s.step % req.previewEvery === 0) {
      const [c, h, w] = s.latentDims;
      // After `step` steps the sample sits at the next noise level; scaleModelInput(…, step) normalises it.
      const first = scheduler.scaleModelInput(s.latents.subarray(0, c * h * w), s.step);
      preview = await latentPreview(first, h, w, this.model.preview);
    }
    await opts.onStep({ step: s.step, totalSteps: total, elapsedMs, etaMs, preview });
  }

  private async toPixels(req: GenerationRequest, sampler: string, seed: number, latents: Float32Array, dims: number[]): Promise<RenderedImage> {
    const { rgb, width, height } = await decodeImage(this.model, latents, dims);
    const text = pngTextChunks(req, { seed, sampler, modelName: req.modelName ?? this.model.name, modelHash: this.model.modelHash });
    return { rgb, width, height, seed, text };
  }
}

/** An image rendered to pixels, with the text chunks its PNG will carry (`DiffusionPipeline.render`). */
export interface RenderedImage {
  rgb: Uint8Array;
  width: number;
  height: number;
  seed: number;
  text: Record<string, string>;
}

/** Rendered images' PNGs and their hashes, in order. The deflate runs on libuv's pool. */
export async function encodeImages(images: readonly RenderedImage[]): Promise<GeneratedImage[]> {
  const encoded: GeneratedImage[] = [];
  for (const { rgb, width, height, seed, text } of images) {
    const png = await encodePng(rgb, width, height, text);
    encoded.push({ png, seed, width, height, sha256: sha256(png) });
  }
  return encoded;
}
