import { encodePng } from './png';

/**
 * Stable Diffusion 1.x latent → RGB factors (rows: latent channels), the
 * well-known cheap approximation of the VAE used for live previews.
 */
export const SD1_LATENT_RGB_FACTORS: number[][] = [
  [0.298, 0.207, 0.208],
  [0.187, 0.286, 0.173],
  [-0.158, 0.189, 0.264],
  [-0.184, -0.271, -0.473],
];

/** How to turn latents into preview colours. */
export interface PreviewSettings { factors: number[][]; bias: number[]; maxSize: number }

/**
 * A small PNG straight from one image's latents ([C, h, w]): a linear
 * latent→RGB map with box downsampling to at most `maxSize` pixels per side.
 * No VAE run, so it costs microseconds per step.
 */
export async function latentPreview(latents: Float32Array, h: number, w: number, settings: PreviewSettings): Promise<Buffer> {
  const stride = Math.max(1, Math.ceil(Math.max(h, w) / settings.maxSize));
  const ph = Math.ceil(h / stride);
  const pw = Math.ceil(w / stride);
  const channels = Math.min(settings.factors.length, latents.length / (h * w));
  const rgb = new Uint8Array(ph * pw * 3);
  for (let py = 0; py < ph; py++) {
    for (let px = 0; px < pw; px++) {
      const colour = averagedColour(latents, h, w, channels, settings, [py * stride, px * stride, stride]);
      for (let k = 0; k < 3; k++) rgb[(py * pw + px) * 3 + k] = Math.round((Math.max(-1, Math.min(1, colour[k])) + 1) * 127.5);
    }
  }
  return encodePng(rgb, pw, ph);
}

function averagedColour(latents: Float32Array, h: number, w: number, channels: number, s: PreviewSettings, box: number[]): number[] {
  const [y0, x0, size] = box;
  const colour = [...s.bias];
  let n = 0;
  const acc = [0, 0, 0];
  for (let y = y0; y < Math.min(h, y0 + size); y++) {
    for (let x = x0; x < Math.min(w, x0 + size); x++) {
      n++;
      for (let c = 0; c < channels; c++) {
        const v = latents[c * h * w + y * w + x];
        for (let k = 0; k < 3; k++) acc[k] += v * s.factors[c][k];
      }
    }
  }
  return colour.map((b, k) => b + acc[k] / n);
}
