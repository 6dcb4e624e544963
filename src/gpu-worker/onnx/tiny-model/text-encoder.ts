import { GraphBuilder } from '../graph-builder';
import { OnnxDataType } from '../proto';
import { linear } from '../layers';
import type { SeededRandom } from '../../pipeline/rng';

/** Shape of the tiny text encoder. */
export interface TextEncoderSpec { vocabSize: number; hiddenSize: number; seqLength: number; silentTokenIds: number[] }

/**
 * Text encoder: token embeddings (Gather), a prompt vector (normalised sum of
 * the embeddings: a stable bag of words), and per-token states
 * `tanh(0.3·E·Wt + ctx·Wm)`. Start/end/pad tokens embed to zero, so padding
 * does not dilute the prompt and the empty prompt encodes to exactly zero,
 * the "unconditional" point that classifier-free guidance pushes away from.
 */
export function buildTextEncoder(rng: SeededRandom, spec: TextEncoderSpec): Buffer {
  const { vocabSize: V, hiddenSize: D, seqLength: L } = spec;
  const g = new GraphBuilder('atelier_tiny_text_encoder');
  const ids = g.input('input_ids', OnnxDataType.INT32, ['batch', L]);

  const table = rng.normals(V * D);
  for (const id of spec.silentTokenIds) table.fill(0, id * D, (id + 1) * D);
  const embedded = g.op('Gather', [g.weight('token_embedding.weight', table, [V, D]), ids], { axis: 0 });

  const sum = g.op('ReduceSum', [embedded, g.ints([1])], { keepdims: 0 });
  const norm = g.op('ReduceL2', [sum], { axes: [1], keepdims: 1 });
  const ctx = g.op('Div', [sum, g.op('Add', [norm, g.floats([1e-6], [])])]);

  const scale = 1 / Math.sqrt(D);
  const pooled = linear(g, ctx, g.weight('pooler.weight', rng.normals(D * D, 1.5 * Math.sqrt(D) * scale), [D, D]), g.floats(new Float32Array(D)));
  g.output(g.op('Tanh', [pooled]), 'pooler_output', OnnxDataType.FLOAT, ['batch', D]);

  const mixWeight = g.weight('mix.weight', rng.normals(D * D, 1.2 * Math.sqrt(D) * scale), [D, D]);
  const mixed = g.op('Unsqueeze', [linear(g, ctx, mixWeight, g.floats(new Float32Array(D))), g.ints([1])]);
  const tokenWeight = g.weight('token.weight', rng.normals(D * D, 0.3 * scale), [D, D]);
  const perToken = g.op('MatMul', [embedded, tokenWeight]);
  const hidden = g.op('Tanh', [g.op('Add', [perToken, mixed])]);
  g.output(hidden, 'last_hidden_state', OnnxDataType.FLOAT, ['batch', L, D]);
  return g.toBuffer({ docString: 'Atelier tiny text encoder' });
}
