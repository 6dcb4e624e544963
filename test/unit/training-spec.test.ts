import { describe, expect, it } from 'vitest';
import { TRAINING_LIMITS } from '../../src/kernel/training-parameters';
import { validateTrainingSpec } from '../../src/gpu-worker/training/spec-validation';
import type { TrainingSpec } from '../../src/gpu-worker/training/types';
import { withoutServerPaths } from '../../src/gpu-worker/server-paths';

const spec: TrainingSpec = {
  modelDir: '/models/atelier-tiny', images: [{ bytes: Buffer.alloc(1), caption: 'x' }], rank: 4, alpha: 4, learningRate: 0.01, steps: 10,
  batchSize: 1, resolution: 64, seed: 1, saveEvery: 5, samplePrompts: [],
};

const fieldOf = (change: Partial<TrainingSpec>) => {
  try {
    validateTrainingSpec({ ...spec, ...change });
    return null;
  } catch (error) {
    return (error as { field?: string }).field;
  }
};

describe('the trainers\' spec validation', () => {
  it('takes its bounds from the kernel\'s TRAINING_LIMITS, the table the API checks startTraining against', () => {
    for (const field of ['rank', 'alpha', 'learningRate', 'batchSize', 'seed', 'minTimestep', 'minSnrGamma'] as const) {
      const { min, max } = TRAINING_LIMITS[field];
      expect(fieldOf({ [field]: min }), `${field} = min`).toBeNull();
      expect(fieldOf({ [field]: max }), `${field} = max`).toBeNull();
      expect(fieldOf({ [field]: max + 1 }), `${field} > max`).toBe(field);
      expect(fieldOf({ [field]: min - 1 }), `${field} < min`).toBe(field);
    }
    expect(fieldOf({ steps: TRAINING_LIMITS.steps.max + 1 })).toBe('steps');
    expect(fieldOf({ resolution: TRAINING_LIMITS.resolution.max + TRAINING_LIMITS.resolution.multipleOf })).toBe('resolution');
    expect(fieldOf({ resolution: 68 })).toBe('resolution');
    expect(fieldOf({ images: [] })).toBe('images');
    // The library's own sentinel: 0 = checkpoint only at the end.
    expect(fieldOf({ saveEvery: 0 })).toBeNull();
    expect(fieldOf({ saveEvery: TRAINING_LIMITS.saveEvery.max + 1 })).toBe('saveEvery');
  });
});

describe('a failed run\'s message as its owner sees it', () => {
  it('shows no path of the worker\'s machine, only the last name, and leaves URLs and store keys alone', () => {
    expect(withoutServerPaths('the local trainer trains only the bundled atelier-tiny model; /srv/atelier/data/models/remote-img is not it (use the command trainer)'))
      .toBe('the local trainer trains only the bundled atelier-tiny model; …/remote-img is not it (use the command trainer)');
    expect(withoutServerPaths("ENOENT: no such file or directory, open '/tmp/atelier-command-training-x1/out/last.safetensors'"))
      .toBe("ENOENT: no such file or directory, open '…/last.safetensors'");
    expect(withoutServerPaths('C:\\atelier\\models\\tiny is not it')).toBe('…/tiny is not it');
    const kept = 'Model x: unet/model.onnx is missing from the artifact store (key models/x/unet/model.onnx); see https://example.com/a/b';
    expect(withoutServerPaths(kept)).toBe(kept);
  });
});
