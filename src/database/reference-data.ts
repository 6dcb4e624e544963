import { PresetCategory, Tier, type TierPolicy } from '../entities';

type PolicyDefaults = Omit<TierPolicy, 'updatedAt'>;

/** Tier limits as first seeded (docs/limits.md, "Tiers"); written once, then owned by admins. Lower queuePriority runs first. */
export const DEFAULT_TIER_POLICIES: PolicyDefaults[] = [
  {
    tier: Tier.FREE, maxOpenJobs: 2, imagesPerDay: 50, maxWidth: 768, maxHeight: 768, maxSteps: 30, maxCount: 2,
    maxLoras: 1, generationsPerMinute: 20, requestsPerMinute: 300, queuePriority: 3, maxSessionMembers: 3,
    maxQueryComplexity: 5000, pendingUploadMb: 64, retentionDays: 30, batchesPerHour: 5,
    videoSecondsPerDay: 30, maxVideoSeconds: 5, maxVideoFps: 30, maxVideoSide: 256,
    trainingRunsPerDay: 0, maxConcurrentTrainingRuns: 0, maxTrainingSteps: 0, maxDatasetImages: 20,
  },
  {
    tier: Tier.PRO, maxOpenJobs: 5, imagesPerDay: 1000, maxWidth: 1024, maxHeight: 1024, maxSteps: 50, maxCount: 4,
    maxLoras: 3, generationsPerMinute: 60, requestsPerMinute: 1200, queuePriority: 2, maxSessionMembers: 10,
    maxQueryComplexity: 10000, pendingUploadMb: 1024, retentionDays: 365, batchesPerHour: 30,
    videoSecondsPerDay: 300, maxVideoSeconds: 15, maxVideoFps: 30, maxVideoSide: 512,
    trainingRunsPerDay: 10, maxConcurrentTrainingRuns: 1, maxTrainingSteps: 2000, maxDatasetImages: 100,
  },
  {
    tier: Tier.ENTERPRISE, maxOpenJobs: 20, imagesPerDay: null, maxWidth: 2048, maxHeight: 2048, maxSteps: 150,
    maxCount: 8, maxLoras: 5, generationsPerMinute: 300, requestsPerMinute: 6000, queuePriority: 1,
    maxSessionMembers: 50, maxQueryComplexity: 30000, pendingUploadMb: 8192, retentionDays: null, batchesPerHour: 120,
    videoSecondsPerDay: null, maxVideoSeconds: 60, maxVideoFps: 60, maxVideoSide: 768,
    trainingRunsPerDay: 100, maxConcurrentTrainingRuns: 4, maxTrainingSteps: 20000, maxDatasetImages: 1000,
  },
];

export interface BuiltInPreset {
  name: string;
  category: PresetCategory;
  template: string;
  negativePrompt?: string;
  width?: number;
  height?: number;
  guidanceScale?: number;
  steps?: number;
  durationSeconds?: number;
  fps?: number;
}

const NEGATIVE = 'blurry, low quality, distorted, watermark, text';

export const BUILT_IN_PRESETS: BuiltInPreset[] = [
  {
    name: 'Cinematic Portrait', category: PresetCategory.IMAGE, width: 768, height: 1024, guidanceScale: 7.5, steps: 30,
    template: '{prompt}, cinematic lighting, dramatic shadows, film grain, bokeh, professional photography, 85mm lens, f/1.4',
    negativePrompt: NEGATIVE,
  },
  {
    name: 'Anime Style', category: PresetCategory.IMAGE, width: 832, height: 1216, guidanceScale: 8.0, steps: 28,
    template: '{prompt}, anime art style, manga, detailed, vibrant colors, clean lines, cel shading',
    negativePrompt: NEGATIVE,
  },
  {
    name: 'Photorealistic', category: PresetCategory.IMAGE, width: 1024, height: 1024, guidanceScale: 7.0, steps: 35,
    template: '{prompt}, photorealistic, ultra detailed, 8k uhd, dslr, high quality, film grain, sharp focus',
    negativePrompt: `${NEGATIVE}, cartoon, painting`,
  },
  {
    name: 'Concept Art', category: PresetCategory.IMAGE, width: 1024, height: 576, guidanceScale: 8.5, steps: 32,
    template: '{prompt}, concept art, digital painting, artstation, highly detailed, fantasy art, matte painting',
    negativePrompt: NEGATIVE,
  },
  {
    name: 'Oil Painting', category: PresetCategory.IMAGE, width: 896, height: 1152, guidanceScale: 9.0, steps: 40,
    template: '{prompt}, oil painting, canvas, brushstrokes, classical art, museum quality, fine art',
    negativePrompt: `${NEGATIVE}, photo`,
  },
  {
    name: 'Cinematic Video', category: PresetCategory.VIDEO, durationSeconds: 5, fps: 24,
    template: '{prompt}, cinematic shot, smooth camera motion, film look, shallow depth of field',
  },
  {
    name: 'Vlog Style', category: PresetCategory.VIDEO, durationSeconds: 3, fps: 30,
    template: '{prompt}, handheld vlog footage, natural light, casual, bright colors',
  },
  {
    name: 'Time Lapse', category: PresetCategory.VIDEO, durationSeconds: 4, fps: 30,
    template: '{prompt}, time lapse, fast moving clouds, changing light, long exposure',
  },
];
