import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DiffusionPipeline } from '../pipeline/diffusion-pipeline';

/** How samples are rendered: the run's seed and size, and guidance 1 (see docs/training.md, "Samples"). */
export interface SampleSettings { prompts: string[]; seed: number; size: number; steps: number; guidanceScale: number }

/**
 * Renders the sample prompts with the LoRA as it stands, through the same
 * ONNX pipeline generation uses (the LoRA file is merged exactly as a
 * generation with it would be). The pipeline loads on first use.
 */
export class SampleRenderer {
  private pipeline?: DiffusionPipeline;
  private dir?: string;
  private renders = 0;

  constructor(private readonly modelDir: string, private readonly settings: SampleSettings) {}

  async render(lora: Buffer): Promise<Buffer[]> {
    if (this.settings.prompts.length === 0) return [];
    this.pipeline ??= await DiffusionPipeline.load(this.modelDir);
    this.dir ??= await mkdtemp(path.join(os.tmpdir(), 'atelier-samples-'));
    // A new name per render: the LoRA loader caches by path, size and mtime.
    const file = path.join(this.dir, `lora-${this.renders++}.safetensors`);
    await writeFile(file, lora);
    const { seed, size, steps, guidanceScale } = this.settings;
    const images: Buffer[] = [];
    for (const prompt of this.settings.prompts) {
      const [image] = await this.pipeline.generate({ prompt, seed, width: size, height: size, steps, guidanceScale, count: 1, loras: [{ name: 'training', path: file, weight: 1 }] });
      images.push(image.png);
    }
    await rm(file, { force: true });
    return images;
  }

  async close(): Promise<void> {
    await this.pipeline?.release();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
