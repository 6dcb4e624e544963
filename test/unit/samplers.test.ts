import { describe, expect, it } from 'vitest';
import { PipelineError } from '../../src/gpu-worker/pipeline/errors';
import { dpmSolverTimesteps } from '../../src/gpu-worker/pipeline/dpm-solver-scheduler';
import { lcmTimesteps } from '../../src/gpu-worker/pipeline/lcm-scheduler';
import { SeededRandom } from '../../src/gpu-worker/pipeline/rng';
import {
  alphasCumprod, createScheduler, normaliseSchedulerConfig, SAMPLER_KINDS, samplerForConfig, samplerKind, SD1_SCHEDULER_DEFAULTS,
  type SchedulerConfig,
} from '../../src/gpu-worker/pipeline/scheduler';
import { checkGenerationSettings, COMFYUI_SAMPLERS, LCM_MAX_STEPS, Sampler } from '../../src/kernel/generation-parameters';

const SD1 = SD1_SCHEDULER_DEFAULTS;
const abar = alphasCumprod(SD1);
/** The noise level of training timestep t in sigma space (diffusers' `sigmas` before interpolation). */
const sigmaAt = (t: number): number => Math.sqrt((1 - abar[t]) / abar[t]);
// A tiny latent, a made-up noise prediction and made-up fresh noise: one step is checked against the formula.
const x = Float32Array.from([1, -0.5, 0.25]);
const eps = Float32Array.from([0.2, 0.3, -0.4]);
const z = Float32Array.from([0.7, -1.1, 0.05]);
const fixedNoise = (n: number): Float32Array => z.slice(0, n);
const noNoise = (): Float32Array => { throw new Error('no noise expected on this step'); };

function expectClose(actual: Float32Array, expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  // float32 results against float64 formulas
  expected.forEach((v, i) => expect(actual[i]).toBeCloseTo(v, 5));
}

describe('sampler timesteps, as diffusers sets them', () => {
  it('LCM picks from the 50-step distillation schedule', () => {
    expect(lcmTimesteps(SD1, 4)).toEqual([999, 759, 499, 259]);
    expect(lcmTimesteps(SD1, 1)).toEqual([999]);
    expect(lcmTimesteps(SD1, 3)).toEqual([999, 679, 339]);
    expect(lcmTimesteps({ ...SD1, original_inference_steps: 100 }, 2)).toEqual([999, 499]);
  });

  it('LCM refuses more steps than its distillation schedule has', () => {
    expect(() => lcmTimesteps(SD1, 51)).toThrow(PipelineError);
    expect(checkGenerationSettings({ prompt: 'p', width: 64, height: 64, steps: 51, guidanceScale: 1, seed: 0, count: 1, sampler: Sampler.LCM }))
      .toEqual({ field: 'steps', message: `steps must be at most ${LCM_MAX_STEPS} with the LCM sampler` });
    expect(checkGenerationSettings({ prompt: 'p', width: 64, height: 64, steps: 51, guidanceScale: 1, seed: 0, count: 1, sampler: Sampler.DDIM })).toBeNull();
  });

  it('DPM++ 2M spaces steps + 1 points and drops the last (numpy rounding: halves to even)', () => {
    expect(dpmSolverTimesteps(SD1, 4)).toEqual([801, 601, 401, 201]);
    expect(dpmSolverTimesteps({ ...SD1, timestep_spacing: 'trailing' }, 4)).toEqual([999, 749, 499, 249]);
    // linspace(0, 999, 5) = 0, 249.75, 499.5, 749.25, 999
    expect(dpmSolverTimesteps({ ...SD1, timestep_spacing: 'linspace' }, 4)).toEqual([999, 749, 500, 250]);
  });

  it('Euler ancestral walks the Euler schedule', () => {
    expect(createScheduler(SD1, 4, 'euler_ancestral', fixedNoise).timesteps).toEqual([751, 501, 251, 1]);
    expect(createScheduler({ ...SD1, timestep_spacing: 'trailing' }, 1, 'euler_ancestral', fixedNoise).timesteps).toEqual([999]);
  });
});

describe('one step of each sampler against its formula', () => {
  it('Euler ancestral: Euler down to sigma_down, then noise of sigma_up', () => {
    const s = createScheduler(SD1, 2, 'euler_ancestral', fixedNoise); // timesteps 501, 1
    const [from, to] = [sigmaAt(501), sigmaAt(1)];
    const up = Math.sqrt(to ** 2 * (from ** 2 - to ** 2) / from ** 2);
    const down = Math.sqrt(to ** 2 - up ** 2);
    // epsilon prediction: x0 = x - sigma·eps, so the derivative (x - x0)/sigma is eps itself
    expectClose(s.step(eps, 0, x), [0, 1, 2].map((i) => x[i] + eps[i] * (down - from) + z[i] * up));
    expect(s.initNoiseSigma).toBeCloseTo(Math.sqrt(from ** 2 + 1), 6);
    expectClose(s.scaleModelInput(x, 0), [0, 1, 2].map((i) => x[i] / Math.sqrt(from ** 2 + 1)));
  });

  it('Euler ancestral: the last step goes to sigma 0 and draws no noise', () => {
    const s = createScheduler(SD1, 1, 'euler_ancestral', noNoise);
    const from = sigmaAt(1);
    expectClose(s.step(eps, 0, x), [0, 1, 2].map((i) => x[i] - from * eps[i]));
  });

  it('LCM: consistency boundary condition, then noised to the next timestep', () => {
    const s = createScheduler(SD1, 2, 'lcm', fixedNoise); // timesteps 999, 499
    const a = abar[999];
    const st = 999 * 10;
    const cSkip = 0.25 / (st ** 2 + 0.25);
    const cOut = st / Math.sqrt(st ** 2 + 0.25);
    const denoised = [0, 1, 2].map((i) => cOut * (x[i] - Math.sqrt(1 - a) * eps[i]) / Math.sqrt(a) + cSkip * x[i]);
    expectClose(s.step(eps, 0, x), denoised.map((d, i) => Math.sqrt(abar[499]) * d + Math.sqrt(1 - abar[499]) * z[i]));
    expect([s.initNoiseSigma, ...s.scaleModelInput(x, 0)]).toEqual([1, ...x]);
  });

  it('LCM: the last step returns the denoised sample without noise', () => {
    const s = createScheduler(SD1, 1, 'lcm', noNoise);
    const a = abar[999];
    const st = 9990;
    const cSkip = 0.25 / (st ** 2 + 0.25);
    const cOut = st / Math.sqrt(st ** 2 + 0.25);
    expectClose(s.step(eps, 0, x), [0, 1, 2].map((i) => cOut * (x[i] - Math.sqrt(1 - a) * eps[i]) / Math.sqrt(a) + cSkip * x[i]));
  });

  it('DPM++ 2M: first order, then the midpoint second-order update, then first order to sigma 0', () => {
    const s = createScheduler(SD1, 3, 'dpmpp_2m'); // timesteps 751, 501, 251 (ratio 1000 // 4)
    expect(s.timesteps).toEqual([751, 501, 251]);
    const vp = (t: number) => {
      const sigma = sigmaAt(t);
      const alpha = 1 / Math.sqrt(sigma ** 2 + 1);
      return { alpha, sigmaT: sigma * alpha, lambda: Math.log(alpha / (sigma * alpha)) };
    };
    const [p0, p1, p2] = [vp(751), vp(501), vp(251)];
    // Step 0 (first order, as DDIM): x1 = (σ1/σ0)·x − α1·(e^−h − 1)·x0
    const x0a = [0, 1, 2].map((i) => (x[i] - p0.sigmaT * eps[i]) / p0.alpha);
    const h0 = p1.lambda - p0.lambda;
    const x1 = s.step(eps, 0, x);
    expectClose(x1, x0a.map((d, i) => (p1.sigmaT / p0.sigmaT) * x[i] - p1.alpha * (Math.exp(-h0) - 1) * d));
    // Step 1 (second order, midpoint): D1 = (m0 − m1)/r0 with r0 = h_prev / h
    const x0b = [0, 1, 2].map((i) => (x1[i] - p1.sigmaT * eps[i]) / p1.alpha);
    const h1 = p2.lambda - p1.lambda;
    const r0 = h0 / h1;
    const coef = p2.alpha * (Math.exp(-h1) - 1);
    const x2 = s.step(eps, 1, x1);
    expectClose(x2, x0b.map((m0, i) => (p2.sigmaT / p1.sigmaT) * x1[i] - coef * m0 - 0.5 * coef * (m0 - x0a[i]) / r0));
    // Last step: sigma 0, so the sample becomes the x0 prediction
    expectClose(s.step(eps, 2, x2), [0, 1, 2].map((i) => (x2[i] - p2.sigmaT * eps[i]) / p2.alpha));
  });

  it('DPM++ 2M with v-prediction predicts x0 as α·x − σ·v', () => {
    const cfg: SchedulerConfig = { ...SD1, prediction_type: 'v_prediction' };
    const s = createScheduler(cfg, 1, 'dpmpp_2m'); // one step: straight to x0
    const sigma = sigmaAt(501);
    const alpha = 1 / Math.sqrt(sigma ** 2 + 1);
    expectClose(s.step(eps, 0, x), [0, 1, 2].map((i) => alpha * x[i] - sigma * alpha * eps[i]));
  });
});

describe('every sampler', () => {
  for (const kind of SAMPLER_KINDS) {
    it(`${kind}: an ideal denoiser for a fixed target lands on the target in 4 steps`, () => {
      const target = Float32Array.from([0.5, -1, 2, 0]);
      const rng = new SeededRandom(3);
      const sched = createScheduler({ ...SD1, timestep_spacing: 'trailing' }, 4, kind, (n) => rng.normals(n));
      let sample = rng.normals(4, sched.initNoiseSigma);
      sched.timesteps.forEach((t, i) => {
        const input = sched.scaleModelInput(sample, i);
        const a = abar[Math.round(t)];
        const e = input.map((v, j) => (v - Math.sqrt(a) * target[j]) / Math.sqrt(1 - a));
        sample = sched.step(e, i, sample);
      });
      sample.forEach((v, j) => expect(v).toBeCloseTo(target[j], 1));
    });
  }

  it('is picked by the diffusers class a scheduler config names; unknown classes run Euler', () => {
    const kinds = ['EulerDiscreteScheduler', 'EulerAncestralDiscreteScheduler', 'DDIMScheduler', 'LCMScheduler', 'DPMSolverMultistepScheduler', 'PNDMScheduler']
      .map((c) => samplerForConfig(normaliseSchedulerConfig({ _class_name: c })));
    expect(kinds).toEqual(['euler', 'euler_ancestral', 'ddim', 'lcm', 'dpmpp_2m', 'euler']);
    expect(createScheduler(SD1, 2, 'dpmpp_2m').name).toBe('DPM++ 2M');
  });

  it('maps the API enum onto the pipeline and ComfyUI names one to one', () => {
    expect(Object.values(Sampler).map(samplerKind)).toEqual([...SAMPLER_KINDS]);
    expect(Object.values(Sampler).map((s) => COMFYUI_SAMPLERS[s].sampler)).toEqual([...SAMPLER_KINDS]);
    expect(COMFYUI_SAMPLERS.LCM).toEqual({ sampler: 'lcm', scheduler: 'sgm_uniform' });
  });
});
