import type { TrainerConfig } from '../config';
import { ThreadedTrainer } from './threaded-trainer';
import { CommandTrainer, KOHYA_TRAIN_NETWORK } from './training/command-trainer';
import type { TrainingBackend } from './training/types';

/**
 * The training backend a worker runs its runs with, from ATELIER_TRAINER*
 * (docs/training.md, "Choosing the trainer"): the local trainer on a thread of
 * its own, or a command line (kohya's train_network.py, or any tool speaking
 * its flags and output) as a child process. Either reports through the same
 * hooks, so the run's events, checkpoints and resume do not depend on it.
 */
export function trainingBackendOf(config: TrainerConfig, encodingIterations: number | null): TrainingBackend {
  if (config.kind === 'local') return new ThreadedTrainer({ backend: 'local', options: encodingIterations ? { encodingIterations } : {} });
  if (config.kind === 'kohya') return new CommandTrainer({ ...KOHYA_TRAIN_NETWORK, cwd: config.cwd ?? undefined });
  return new CommandTrainer({ command: config.command, resumeArgs: config.resumeArgs, cwd: config.cwd ?? undefined });
}
