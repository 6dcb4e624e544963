import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TierPolicy } from '../../src/entities';
import { PipelineError } from '../../src/gpu-worker/pipeline/errors';
import { validateRequest } from '../../src/gpu-worker/pipeline/request';
import { samplerKind } from '../../src/gpu-worker/pipeline/scheduler';
import type { GenerationRequest } from '../../src/gpu-worker/pipeline/types';
import { checkNumber, GENERATION_DEFAULTS as D, GENERATION_LIMITS as L, type NumberLimit } from '../../src/kernel/generation-parameters';
import { AppError } from '../../src/kernel/errors';
import {
  assertWithinTier, presetDefaults, resolveGenerationParameters, type GenerationRequestInput, type PresetDefaultsSource,
} from '../../src/services/generation-input';

/**
 * The generation limits table (docs/generation-parameters.md) as properties:
 * every value the table admits is accepted by the API and by the pipeline, and
 * every value it does not is refused by both, naming the field.
 */

const NUMERIC = ['width', 'height', 'steps', 'guidanceScale', 'seed', 'count'] as const;
/** How far ahead deadlineSeconds may lie: a week (src/services/generation-input.ts). */
const DEADLINE: NumberLimit = { min: 1, max: 7 * 24 * 3600, integer: true };

/** Values a limit admits, built from its documented rule, bounds included. */
function inside(limit: NumberLimit): fc.Arbitrary<number> {
  const m = limit.multipleOf;
  if (m) return fc.integer({ min: Math.ceil(limit.min / m), max: Math.floor(limit.max / m) }).map((k) => k * m);
  if (limit.integer) return fc.integer({ min: limit.min, max: limit.max });
  return fc.double({ min: limit.min, max: limit.max, noNaN: true });
}

/** Numbers a limit refuses: below, above, infinite, NaN, a fraction where it wants integers, off its multiple. */
function outside(limit: NumberLimit): fc.Arbitrary<number> {
  const refused = [
    // -0 sorts below 0 for fast-check but equals it: the filters keep what is truly outside.
    fc.double({ max: limit.min, maxExcluded: true, noNaN: true }).filter((v) => v < limit.min),
    fc.double({ min: limit.max, minExcluded: true, noNaN: true }).filter((v) => v > limit.max),
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
  ];
  if (limit.integer) refused.push(fc.double({ min: limit.min, max: limit.max, noNaN: true, noInteger: true }));
  if (limit.multipleOf) {
    const m = limit.multipleOf;
    refused.push(fc.integer({ min: limit.min, max: limit.max }).filter((v) => v % m !== 0));
  }
  return fc.oneof(...refused);
}

/** Text whose trimmed length is 1..max characters: short strings of any script, and long ones up to the limit. */
const promptText = fc
  .oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: L.promptChars.max }).map((n) => 'p'.repeat(n)))
  .filter((s) => s.trim().length >= 1 && s.trim().length <= L.promptChars.max);

/** Absent, null (both mean "the default") or a value inside the table. */
const optional = <T>(arb: fc.Arbitrary<T>) => fc.oneof(fc.constant(undefined), fc.constant(null), arb);

const loraList = (maxLength: number, minLength = 0) =>
  fc.uniqueArray(fc.record({ loraId: fc.uuid(), weight: inside(L.loraWeight) }), { minLength, maxLength, selector: (l) => l.loraId });

/** The seeds a request of `count` images may give: image i uses seed + i, and every one is inside the table. */
const seedsFor = (count: number | null | undefined): NumberLimit => ({ ...L.seed, max: L.seed.max - ((count ?? D.count) - 1) });

/** A createGeneration input with every field inside the documented ranges. */
const validInput: fc.Arbitrary<GenerationRequestInput> = optional(inside(L.count)).chain((count) =>
  fc.record({
    prompt: promptText,
    negativePrompt: optional(promptText),
    width: optional(inside(L.width)),
    height: optional(inside(L.height)),
    steps: optional(inside(L.steps)),
    guidanceScale: optional(inside(L.guidanceScale)),
    seed: optional(inside(seedsFor(count))),
    count: fc.constant(count),
    modelId: optional(fc.uuid()),
    loras: optional(loraList(L.loraCount.max)),
    deadlineSeconds: optional(inside(DEADLINE)),
  }),
);

/** One field of a valid input replaced by a value outside its range, and the field the refusal must name. */
const oneFieldOutside: fc.Arbitrary<[GenerationRequestInput, Partial<GenerationRequestInput>, string]> = fc.tuple(
  validInput,
  fc.oneof(
    ...NUMERIC.map((field) => outside(L[field]).map((value) => [{ [field]: value }, field] as const)),
    outside(DEADLINE).map((value) => [{ deadlineSeconds: value }, 'deadlineSeconds'] as const),
    fc.integer({ min: L.count.min + 1, max: L.count.max }).chain((count) =>
      fc.integer({ min: seedsFor(count).max + 1, max: L.seed.max }).map((seed) => [{ seed, count }, 'seed'] as const)),
    fc.integer({ min: L.promptChars.max + 1, max: 3 * L.promptChars.max }).map((n) => [{ prompt: ` ${'p'.repeat(n)} ` }, 'prompt'] as const),
    fc.stringMatching(/^\s*$/).map((blank) => [{ prompt: blank }, 'prompt'] as const),
    fc.integer({ min: L.promptChars.max + 1, max: 3 * L.promptChars.max }).map((n) => [{ negativePrompt: 'n'.repeat(n) }, 'negativePrompt'] as const),
    loraList(3 * L.loraCount.max, L.loraCount.max + 1).map((loras) => [{ loras }, 'loras'] as const),
    fc.tuple(loraList(L.loraCount.max, 1), fc.nat(), outside(L.loraWeight)).map(([loras, n, weight]) => {
      const i = n % loras.length;
      return [{ loras: loras.map((l, j) => (j === i ? { ...l, weight } : l)) }, `loras[${i}].weight`] as const;
    }),
  ),
).map(([input, [change, field]]) => [input, change, field]);

const resolve = (input: GenerationRequestInput) => resolveGenerationParameters(input, {}, Math.random);

/** What the worker receives for accepted parameters (the sampler by its pipeline name, as generation-worker.ts sends it). */
const pipelineRequest = (p: ReturnType<typeof resolve>): GenerationRequest => ({
  ...p, negativePrompt: p.negativePrompt ?? undefined, sampler: p.sampler ? samplerKind(p.sampler) : undefined, loras: p.loras.map((l) => ({ name: l.loraId, path: `/loras/${l.loraId}`, weight: l.weight })),
});

/** The field a refusal names: BAD_USER_INPUT from the API, INVALID_PARAMETERS from the pipeline; undefined when accepted. */
function refusalField(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    if (err instanceof AppError && err.code === 'BAD_USER_INPUT') return String(err.extensions.field);
    if (err instanceof PipelineError && err.code === 'INVALID_PARAMETERS') return err.field;
    throw err;
  }
  return undefined;
}

describe('the generation limits table, as properties', () => {
  it('checkNumber accepts every value inside each limit and refuses every value outside, naming the field', () => {
    for (const [name, limit] of Object.entries(L)) {
      fc.assert(fc.property(inside(limit), (value) => checkNumber(name, value, limit) === null));
      fc.assert(fc.property(outside(limit), (value) => checkNumber(name, value, limit)?.field === name));
    }
  });

  it('createGeneration accepts every input inside the table, keeps its values, and the pipeline accepts the result', () => {
    fc.assert(
      fc.property(validInput, (input) => {
        const params = resolve(input);
        for (const field of NUMERIC) if (input[field] != null) expect(params[field]).toBe(input[field]);
        expect(params.prompt).toBe(input.prompt.trim());
        expect(() => validateRequest(pipelineRequest(params))).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });

  it('createGeneration refuses an input with one field outside the table, with BAD_USER_INPUT and that field', () => {
    fc.assert(
      fc.property(oneFieldOutside, ([input, change, field]) => {
        expect(refusalField(() => resolve({ ...input, ...change }))).toBe(field);
      }),
      { numRuns: 300 },
    );
  });

  it('the pipeline refuses the same values with INVALID_PARAMETERS and the same field', () => {
    const numericOutside = fc.oneof(...NUMERIC.map((field) => outside(L[field]).map((value) => [field, value] as const)));
    fc.assert(
      fc.property(validInput, numericOutside, (input, [field, value]) => {
        const request = { ...pipelineRequest(resolve(input)), [field]: value };
        expect(refusalField(() => validateRequest(request))).toBe(field);
      }),
      { numRuns: 200 },
    );
  });

  it('every accepted request gives each of its images a seed inside the table (image i uses seed + i), chosen or given', () => {
    const anyCountAndSeed: fc.Arbitrary<GenerationRequestInput> = fc.record({
      prompt: fc.constant('a lighthouse'), count: optional(inside(L.count)), seed: optional(inside(L.seed)),
    });
    const nearTheTop = (n: number) => 1 - (n + 1) / 2 ** 40; // random() values (below 1) that pick the largest seeds
    fc.assert(
      fc.property(anyCountAndSeed, fc.nat(1000).map(nearTheTop), (input, r) => {
        let params;
        try {
          params = resolveGenerationParameters(input, {}, () => r);
        } catch (err) {
          // Only a seed the caller gave may be refused; one Atelier chooses always fits.
          return input.seed != null && err instanceof AppError && err.extensions.field === 'seed';
        }
        return checkNumber('seed', params.seed + params.count - 1, L.seed) === null;
      }),
      { numRuns: 300, examples: [[{ prompt: 'edge', seed: L.seed.max, count: 2 }, 0.5], [{ prompt: 'chosen', count: L.count.max }, nearTheTop(0)]] },
    );
  });

  it('a preset inside the table, or none, scaled to any tier inside the table, never makes a request that tier refuses', () => {
    const column = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null }); // a preset row's unset column is null
    const preset = fc.option(fc.record({
      width: column(inside(L.width)), height: column(inside(L.height)), steps: column(inside(L.steps)),
      guidanceScale: column(inside(L.guidanceScale)), loras: loraList(L.loraCount.max),
    }), { nil: null });
    // Any tier, those narrower than the defaults (512², 20 steps) included: a request naming nothing fits them too.
    const tier = fc.record({
      maxWidth: inside(L.width), maxHeight: inside(L.height), maxSteps: inside(L.steps), maxCount: inside(L.count),
      maxLoras: fc.integer({ min: L.loraCount.min, max: L.loraCount.max }),
    });
    fc.assert(
      fc.property(preset, tier, (p, t) => {
        const policy = { tier: 'FREE', ...t } as TierPolicy;
        const source: PresetDefaultsSource | null = p && { template: '{prompt}', negativePrompt: null, sampler: null, modelId: null, ...p };
        const params = resolveGenerationParameters({ prompt: 'a lighthouse' }, presetDefaults(source, policy), Math.random);
        expect(() => assertWithinTier(params, policy)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });
});
