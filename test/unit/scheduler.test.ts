import { describe, expect, it } from 'vitest';
import { alphasCumprod, createScheduler, normaliseSchedulerConfig, SD1_SCHEDULER_DEFAULTS, spacedTimesteps } from '../../src/gpu-worker/pipeline/scheduler';
import { SeededRandom } from '../../src/gpu-worker/pipeline/rng';

describe('schedulers', () => {
  it('computes the SD 1.x noise schedule', () => {
    const abar = alphasCumprod(SD1_SCHEDULER_DEFAULTS);
    expect(abar).toHaveLength(1000);
    expect(Math.sqrt((1 - abar[999]) / abar[999])).toBeCloseTo(14.6146, 3);
    expect(abar[0]).toBeCloseTo(1 - 0.00085, 8);
  });

  it('spaces timesteps like diffusers', () => {
    expect(spacedTimesteps(SD1_SCHEDULER_DEFAULTS, 20, true).slice(0, 3)).toEqual([951, 901, 851]);
    expect(spacedTimesteps(SD1_SCHEDULER_DEFAULTS, 20, true).at(-1)).toBe(1);
    expect(spacedTimesteps({ ...SD1_SCHEDULER_DEFAULTS, timestep_spacing: 'trailing' }, 1, true)).toEqual([999]);
    expect(spacedTimesteps({ ...SD1_SCHEDULER_DEFAULTS, timestep_spacing: 'trailing' }, 4, true)).toEqual([999, 749, 499, 249]);
    expect(spacedTimesteps({ ...SD1_SCHEDULER_DEFAULTS, timestep_spacing: 'linspace' }, 3, false)).toEqual([999, 499.5, 0]);
  });

  it('fills defaults from a partial config and picks the sampler by class', () => {
    const cfg = normaliseSchedulerConfig({ _class_name: 'DDIMScheduler', trained_betas: null });
    expect(cfg.beta_schedule).toBe('scaled_linear');
    expect(createScheduler(cfg, 10).name).toBe('DDIM');
    expect(createScheduler(normaliseSchedulerConfig({ _class_name: 'PNDMScheduler' }), 10).name).toBe('Euler');
  });

  for (const kind of ['euler', 'ddim'] as const) {
    it(`${kind}: an ideal denoiser for a fixed target lands on the target`, () => {
      const target = Float32Array.from([0.5, -1, 2, 0]);
      const sched = createScheduler(SD1_SCHEDULER_DEFAULTS, 25, kind);
      const abar = alphasCumprod(SD1_SCHEDULER_DEFAULTS);
      let x = new SeededRandom(3).normals(4, sched.initNoiseSigma);
      sched.timesteps.forEach((t, i) => {
        const input = sched.scaleModelInput(x, i);
        const a = abar[Math.round(t)];
        const eps = input.map((v, j) => (v - Math.sqrt(a) * target[j]) / Math.sqrt(1 - a));
        x = sched.step(eps, i, x);
      });
      x.forEach((v, j) => expect(v).toBeCloseTo(target[j], 1));
    });
  }
});

describe('SeededRandom', () => {
  it('repeats exactly for a seed and differs between seeds', () => {
    expect(Array.from(new SeededRandom(7).normals(5))).toEqual(Array.from(new SeededRandom(7).normals(5)));
    expect(new SeededRandom(7).normal()).not.toBe(new SeededRandom(8).normal());
    expect(new SeededRandom(2 ** 40).normal()).not.toBe(new SeededRandom(0).normal());
  });

  it('produces standard normals', () => {
    const xs = new SeededRandom(1).normals(20000);
    const mean = xs.reduce((a, v) => a + v, 0) / xs.length;
    const variance = xs.reduce((a, v) => a + (v - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(variance).toBeCloseTo(1, 1);
  });
});
