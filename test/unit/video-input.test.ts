import { describe, expect, it } from 'vitest';
import { JobKind, remainingDenoisingSteps, Tier, workSteps, type TierPolicy } from '../../src/entities';
import { DEFAULT_TIER_POLICIES } from '../../src/database/reference-data';
import { quotaCharge } from '../../src/services/quotas';
import { resolveVideoRequest, type VideoPresetSource } from '../../src/services/video-input';

const policy = (tier: Tier) => DEFAULT_TIER_POLICIES.find((p) => p.tier === tier) as TierPolicy;
const half = () => 0.5;
const preset = (fields: Partial<VideoPresetSource>): VideoPresetSource => ({
  template: '{prompt}, cinematic', negativePrompt: null, width: null, height: null, steps: null, guidanceScale: null, sampler: null,
  modelId: null, loras: [], durationSeconds: 5, fps: 24, ...fields,
});

describe('resolveVideoRequest', () => {
  it('takes a VIDEO preset\'s template, duration and fps, at the default steps and the tier\'s video side', () => {
    const { params, video } = resolveVideoRequest({ prompt: 'a fox' }, preset({}), null, policy(Tier.FREE), half);
    expect(params).toMatchObject({ prompt: 'a fox, cinematic', width: 256, height: 256, steps: 12, count: 1 });
    expect(video).toEqual({ durationSeconds: 5, fps: 24, frames: 120, endPrompt: null });
  });

  it('fits a preset longer than the tier allows, but refuses an explicit value past it with the field', () => {
    const tight = { ...policy(Tier.FREE), maxVideoSeconds: 2, maxVideoFps: 12 };
    expect(resolveVideoRequest({ prompt: 'a fox' }, preset({}), null, tight, half).video).toMatchObject({ durationSeconds: 2, fps: 12, frames: 24 });
    expect(() => resolveVideoRequest({ prompt: 'a fox', durationSeconds: 3 }, null, null, tight, half))
      .toThrow(expect.objectContaining({ code: 'QUOTA_EXCEEDED', extensions: expect.objectContaining({ field: 'durationSeconds', limit: 2 }) }));
  });

  it('animates an image from its prompt, seed and settings, scaled to the tier, toward a new prompt when given', () => {
    const image = { id: 'i', seed: 99, width: 768, height: 512, parameters: { prompt: 'a harbour', steps: 25, guidanceScale: 6, negativePrompt: 'blur' } };
    const { params, video } = resolveVideoRequest({ fromImageId: 'i', prompt: 'a storm', durationSeconds: 1, fps: 8 }, null, image, policy(Tier.PRO), half);
    expect(params).toMatchObject({ prompt: 'a harbour', negativePrompt: 'blur', seed: 99, steps: 25, guidanceScale: 6, width: 512, height: 336 });
    expect(video).toEqual({ durationSeconds: 1, fps: 8, frames: 8, endPrompt: 'a storm' });
    expect(resolveVideoRequest({ fromImageId: 'i', seed: 5 }, null, image, policy(Tier.PRO), half).params.seed).toBe(5);
  });

  it('counts a clip in whole seconds, its frames as its steps, and its frames × steps for ETAs', () => {
    const clip = { kind: JobKind.VIDEO, count: 1, steps: 12, videoFrames: 75, videoFps: 30 };
    expect(quotaCharge(clip)).toEqual({ meter: 'videoSeconds', amount: 3 });
    expect(workSteps(clip)).toBe(75);
    expect(remainingDenoisingSteps(clip, 25)).toBe(600);
    const image = { kind: JobKind.IMAGE, count: 2, steps: 20, videoFrames: null, videoFps: null };
    expect([quotaCharge(image), workSteps(image), remainingDenoisingSteps(image, 5)]).toEqual([{ meter: 'images', amount: 2 }, 20, 30]);
  });
});
