import { GraphBuilder } from '../graph-builder';
import { OnnxDataType } from '../proto';
import { conv1x1, coordinateGrid } from '../layers';
import type { SeededRandom } from '../../pipeline/rng';

/**
 * Colour head: a cosine palette (a + b·cos(2π(arg))) per RGB channel, the
 * arguments being linear in the latents and pixel position. Cosine palettes
 * keep neighbouring latent values on harmonious hues, and the position term
 * gives every image a soft sky-to-ground gradient.
 */
export interface PaletteSpec {
  /** [3][4]: latent channel weights of each RGB channel's palette argument (in cycles). */
  latent: number[][];
  /** [3][3]: x, y, r weights of the argument. */
  position: number[][];
  phase: number[];
  offset: number[];
  amplitude: number[];
  /** Darkening towards the corners: colour × (1 − vignette·r²). */
  vignette: number;
}

/** Hyper-parameters of the tiny decoder (see {@link buildVaeDecoder}). */
export interface VaeDecoderSpec { scalingFactor: number; width1: number; width2: number; textureStrength: number; palette: PaletteSpec }

function paletteArgument(g: GraphBuilder, up: string, coords: string, p: PaletteSpec): string {
  const cycles = (rows: number[][]): number[] => rows.flat().map((v) => v * 2 * Math.PI);
  const fromLatent = conv1x1(g, up, g.weight('palette.latent.weight', cycles(p.latent), [3, 4, 1, 1]),
    g.weight('palette.phase', p.phase.map((v) => v * 2 * Math.PI), [3]));
  const fromPosition = conv1x1(g, coords, g.weight('palette.position.weight', cycles(p.position), [3, 3, 1, 1]));
  return g.op('Add', [fromLatent, fromPosition]);
}

/** The CPPN texture: sin/tanh layers over latents and pixel position, as a small palette perturbation. */
function texture(g: GraphBuilder, rng: SeededRandom, up: string, coords: string, spec: VaeDecoderSpec): string {
  const { width1: W1, width2: W2 } = spec;
  const fromLatent = conv1x1(g, up, g.weight('texture1.latent.weight', rng.normals(W1 * 4, 1.1), [W1, 4, 1, 1]),
    g.weight('texture1.bias', Float32Array.from({ length: W1 }, () => rng.next() * 2 * Math.PI), [W1]));
  const fromCoords = conv1x1(g, coords, g.weight('texture1.coords.weight', rng.normals(W1 * 3, 2.5), [W1, 3, 1, 1]));
  const h1 = g.op('Sin', [g.op('Add', [fromLatent, fromCoords])]);
  const h2 = g.op('Tanh', [conv1x1(g, h1, g.weight('texture2.weight', rng.normals(W2 * W1, 1.5 / Math.sqrt(W1)), [W2, W1, 1, 1]),
    g.weight('texture2.bias', rng.normals(W2, 0.3), [W2]))]);
  return conv1x1(g, h2, g.weight('texture3.weight', rng.normals(3 * W2, spec.textureStrength / Math.sqrt(W2)), [3, W2, 1, 1]));
}

/**
 * Decoder: latents are upsampled ×8 (bilinear, so smooth); each pixel's
 * colour is a cosine palette of the latent values and the pixel position,
 * perturbed by a small coordinate network (CPPN) for texture, darkened
 * towards the corners. Output is clipped to [-1, 1] like a VAE's.
 */
export function buildVaeDecoder(rng: SeededRandom, spec: VaeDecoderSpec): Buffer {
  const g = new GraphBuilder('atelier_tiny_vae_decoder');
  const latent = g.input('latent_sample', OnnxDataType.FLOAT, ['batch', 4, 'height', 'width']);
  const z = g.op('Mul', [latent, g.floats([spec.scalingFactor], [])]);
  const up = g.op('Resize', [z, '', g.floats([1, 1, 8, 8])], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' });
  const coords = coordinateGrid(g, up);

  const p = spec.palette;
  const arg = g.op('Add', [paletteArgument(g, up, coords, p), texture(g, rng, up, coords, spec)]);
  const colour = g.op('Add', [g.op('Mul', [g.op('Cos', [arg]), g.floats(p.amplitude, [1, 3, 1, 1])]), g.floats(p.offset, [1, 3, 1, 1])]);
  const radius = g.op('Slice', [coords, g.ints([2]), g.ints([3]), g.ints([1])]);
  const shade = g.op('Sub', [g.floats([1], []), g.op('Mul', [g.op('Mul', [radius, radius]), g.floats([p.vignette], [])])]);
  const rgb = g.op('Sub', [g.op('Mul', [g.op('Mul', [colour, shade]), g.floats([2], [])]), g.floats([1], [])]);
  g.output(g.op('Clip', [rgb, g.floats([-1], []), g.floats([1], [])]), 'sample', OnnxDataType.FLOAT, ['batch', 3, 'height_px', 'width_px']);
  return g.toBuffer({ docString: 'Atelier tiny VAE decoder (cosine palette + CPPN texture)' });
}
