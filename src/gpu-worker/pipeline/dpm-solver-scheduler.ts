import { alphasCumprod, mapSample, trainSigmas, type Scheduler, type SchedulerConfig } from './schedule';

/** numpy.round: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * DPMSolverMultistepScheduler's timesteps, which differ from the other
 * samplers' for `leading` and `linspace`: it spaces steps + 1 points and
 * drops the last. Integers, highest first.
 */
export function dpmSolverTimesteps(cfg: SchedulerConfig, steps: number): number[] {
  const T = cfg.num_train_timesteps;
  if (cfg.timestep_spacing === 'trailing') {
    const ratio = T / steps;
    return Array.from({ length: steps }, (_, i) => roundHalfEven(T - i * ratio) - 1);
  }
  if (cfg.timestep_spacing === 'linspace') {
    const stride = (T - 1) / steps;
    return Array.from({ length: steps }, (_, i) => roundHalfEven(i === 0 ? T - 1 : (steps - i) * stride));
  }
  const ratio = Math.floor(T / (steps + 1));
  return Array.from({ length: steps }, (_, i) => (steps - i) * ratio + cfg.steps_offset);
}

/** The VP view of a sigma: x = alpha·x0 + sigma_t·eps with alpha = 1/sqrt(1 + sigma²). */
function vp(sigma: number): { alpha: number; sigmaT: number; lambda: number } {
  const alpha = 1 / Math.sqrt(sigma * sigma + 1);
  const sigmaT = sigma * alpha;
  // sigma 0 (the end) gives lambda +Infinity, so exp(-h) is 0 and the step lands on the prediction.
  return { alpha, sigmaT, lambda: Math.log(alpha) - Math.log(sigmaT) };
}

/**
 * DPM-Solver++(2M), as diffusers' DPMSolverMultistepScheduler with its
 * defaults (algorithm_type dpmsolver++, solver_order 2, solver_type midpoint,
 * lower_order_final, final_sigmas_type zero): the first step and the last
 * are first order, every other step uses the last two x0 predictions.
 * The sample stays in the model's own (VP) space, so no input scaling.
 */
export function dpmSolverScheduler(cfg: SchedulerConfig, steps: number): Scheduler {
  const table = trainSigmas(alphasCumprod(cfg));
  const timesteps = dpmSolverTimesteps(cfg, steps);
  const sigmas = [...timesteps.map((t) => table[t]), 0];
  let previousX0: Float32Array | null = null;
  return {
    name: 'DPM++ 2M',
    timesteps,
    initNoiseSigma: 1,
    scaleModelInput: (sample) => sample,
    step(out, step, sample) {
      const s0 = vp(sigmas[step]);
      const t = vp(sigmas[step + 1]);
      const x0 = mapSample(sample.length, (i) => cfg.prediction_type === 'epsilon' ? (sample[i] - s0.sigmaT * out[i]) / s0.alpha
        : cfg.prediction_type === 'v_prediction' ? s0.alpha * sample[i] - s0.sigmaT * out[i] : out[i]);
      const h = t.lambda - s0.lambda;
      const ratio = t.sigmaT / s0.sigmaT;
      const coef = t.alpha * (Math.exp(-h) - 1);
      const last = step === timesteps.length - 1;
      const m1 = previousX0;
      previousX0 = x0;
      if (!m1 || last) return mapSample(sample.length, (i) => ratio * sample[i] - coef * x0[i]);
      const r0 = (s0.lambda - vp(sigmas[step - 1]).lambda) / h;
      return mapSample(sample.length, (i) => ratio * sample[i] - coef * x0[i] - 0.5 * coef * ((x0[i] - m1[i]) / r0));
    },
  };
}
