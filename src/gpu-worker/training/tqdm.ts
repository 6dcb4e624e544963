/**
 * The progress line of kohya's train_network.py: a tqdm bar with desc
 * "steps", smoothing 0 and an `avr_loss` postfix, e.g.
 * `steps:  10%|█         | 10/100 [00:05<00:45,  1.98it/s, avr_loss=0.123]`.
 * `atelier train` prints it and the command trainer parses it, so any tool
 * that prints the same line can be a training backend. `atelier train` adds
 * an `eval_loss` postfix at the steps it evaluates (the bar redrawn, as
 * tqdm's set_postfix does), which the command trainer reports as the
 * evaluation loss; kohya's line has none and parses as before.
 */

const PARTIAL = ' ▏▎▍▌▋▊▉';
const BAR_WIDTH = 10;

/** tqdm's time format: mm:ss, or h:mm:ss from an hour on. */
function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const two = (n: number) => String(n).padStart(2, '0');
  const [h, m, r] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  return h > 0 ? `${h}:${two(m)}:${two(r)}` : `${two(m)}:${two(r)}`;
}

function bar(fraction: number): string {
  const eighths = Math.floor(fraction * BAR_WIDTH * 8);
  const full = Math.floor(eighths / 8);
  const rest = eighths % 8;
  return ('█'.repeat(full) + (full < BAR_WIDTH && rest > 0 ? PARTIAL[rest] : '')).padEnd(BAR_WIDTH, ' ');
}

/** tqdm's format_num for postfix values: 3 significant digits. */
function formatNumber(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(3))) : String(v).toLowerCase();
}

/** One progress line (no carriage return or newline). */
export function formatTqdm(step: number, total: number, elapsedSeconds: number, postfix: Record<string, number>): string {
  const rate = elapsedSeconds > 0 ? step / elapsedSeconds : 0;
  const remaining = rate > 0 ? (total - step) / rate : 0;
  const rateText = rate >= 1 || rate === 0 ? `${rate.toFixed(2).padStart(5)}it/s` : `${(1 / rate).toFixed(2).padStart(5)}s/it`;
  const extra = Object.entries(postfix).map(([k, v]) => `, ${k}=${formatNumber(v)}`).join('');
  const percent = String(Math.floor((step / total) * 100)).padStart(3);
  return `steps: ${percent}%|${bar(step / total)}| ${step}/${total} [${clock(elapsedSeconds)}<${clock(remaining)}, ${rateText}${extra}]`;
}

/** What a progress line says. */
export interface TqdmProgress { step: number; total: number; remainingSeconds: number | null; loss: number | null; evaluationLoss: number | null }

const LINE = /^steps:\s+\d+%\|[^|]*\|\s*(\d+)\/(\d+)\s*\[([^\]]*)\]/;

function seconds(text: string): number | null {
  const parts = text.split(':').map(Number);
  if (parts.some((p) => !Number.isFinite(p))) return null;
  return parts.reduce((acc, p) => acc * 60 + p, 0);
}

/** Parses one line of tqdm output (already split at \r and \n); null for anything else. */
export function parseTqdm(line: string): TqdmProgress | null {
  const m = LINE.exec(line.trim());
  if (!m) return null;
  const inside = m[3];
  const remaining = /<([\d:]+)/.exec(inside);
  const postfix = (key: string) => {
    const value = new RegExp(`\\b${key}=([-+\\d.eE]+|nan|inf)`).exec(inside);
    return value ? Number(value[1]) : null;
  };
  return {
    step: Number(m[1]),
    total: Number(m[2]),
    remainingSeconds: remaining ? seconds(remaining[1]) : null,
    loss: postfix('avr_loss'),
    evaluationLoss: postfix('eval_loss'),
  };
}
