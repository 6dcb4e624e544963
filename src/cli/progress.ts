import { Presets, SingleBar } from 'cli-progress';
import type { Output } from './output';

/** What a job's events say about its progress (a JobEvent's fields). */
export interface ProgressEvent {
  type: string;
  step?: number | null;
  totalSteps?: number | null;
  etaSeconds?: number | null;
  queuePosition?: number | null;
  /** QUEUED after the job had started: why it waits again (its steps start over). */
  requeueReason?: string | null;
}

/** Why a started job waits in the queue again, in words (a QUEUED event's `requeueReason`). */
export function requeuedText(reason: string): string {
  const why = ({ WORKER_LOST: 'its worker was lost', HANDED_BACK: 'its worker handed it back', RETRY: 'to be tried again' } as Record<string, string>)[reason];
  return `back in the queue (${why ?? reason.toLowerCase()})`;
}

/** Shows a job's progress: a live bar on a terminal, one line per change otherwise, nothing with --json. */
export interface ProgressView {
  update(event: ProgressEvent): void;
  stop(): void;
}

/** `unit`: what the job counts in its progress: a generation's steps, a clip's frames ('frame'). */
export function progressView(output: Output, totalSteps: number, unit: 'step' | 'frame' = 'step'): ProgressView {
  if (output.json) return { update: () => undefined, stop: () => undefined };
  return output.tty ? barView(totalSteps, unit) : lineView(unit);
}

const stateOf = (event: ProgressEvent): string => {
  if (event.type === 'QUEUED' && event.requeueReason) {
    return `${requeuedText(event.requeueReason)}${event.queuePosition != null ? `, position ${event.queuePosition}` : ''}`;
  }
  if (event.type === 'QUEUED' || event.type === 'POSITION') return event.queuePosition != null ? `queued (position ${event.queuePosition})` : 'queued';
  return event.type === 'PROGRESS' || event.type === 'STARTED' ? 'running' : event.type.toLowerCase();
};

const eta = (seconds: number | null | undefined): string => (seconds == null ? '-' : `${seconds}s`);

function barView(totalSteps: number, unit: 'step' | 'frame'): ProgressView {
  const bar = new SingleBar({
    format: `{bar} {value}/{total} ${unit}s | ETA {etaText} | {state}`,
    hideCursor: true,
    clearOnComplete: false,
    stream: process.stdout,
  }, Presets.shades_classic);
  let step = 0;
  bar.start(totalSteps, 0, { etaText: '-', state: 'submitted' });
  return {
    update(event) {
      if (event.totalSteps) bar.setTotal(event.totalSteps);
      step = event.step ?? step;
      bar.update(step, { etaText: eta(event.etaSeconds), state: stateOf(event) });
    },
    stop: () => bar.stop(),
  };
}

/** A pipe or a log file gets a line per change of state or step, never carriage returns. */
function lineView(unit: 'step' | 'frame'): ProgressView {
  let last = '';
  return {
    update(event) {
      const line = event.type === 'PROGRESS'
        ? `${unit} ${event.step}/${event.totalSteps} (ETA ${eta(event.etaSeconds)})`
        : stateOf(event);
      if (line !== last) console.log(line);
      last = line;
    },
    stop: () => undefined,
  };
}
