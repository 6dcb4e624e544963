/** One sample line of the Prometheus text format. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A metric family: HELP, TYPE and its samples (histogram _bucket/_sum/_count included). */
export interface MetricFamily {
  name: string;
  help: string;
  type: string;
  samples: PromSample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: -?\\d+)?$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/gy;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(raw: string, line: string): number {
  // Prometheus reads values with Go's ParseFloat: Inf and NaN in any case.
  if (/^\+?inf$/i.test(raw)) return Infinity;
  if (/^-inf$/i.test(raw)) return -Infinity;
  if (/^nan$/i.test(raw)) return NaN;
  const value = Number(raw);
  if (Number.isNaN(value)) throw new Error(`bad sample value in: ${line}`);
  return value;
}

function familyOf(families: Map<string, MetricFamily>, name: string): MetricFamily | undefined {
  return families.get(name) ?? families.get(name.replace(/_(bucket|sum|count|total|created)$/, ''));
}

/**
 * Parses Prometheus text exposition (version 0.0.4) strictly: every line is a
 * HELP, a TYPE or a sample of a declared family, or the parse throws.
 */
export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = line.match(new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`));
    if (meta) {
      const family = families.get(meta[2]) ?? { name: meta[2], help: '', type: '', samples: [] };
      if (meta[1] === 'HELP') family.help = meta[3];
      else if (TYPES.has(meta[3])) family.type = meta[3];
      else throw new Error(`unknown metric type in: ${line}`);
      families.set(meta[2], family);
      continue;
    }
    if (line.startsWith('#')) continue;
    const match = line.match(SAMPLE);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (match[2]) {
      LABEL.lastIndex = 0;
      let consumed = 0;
      for (let m = LABEL.exec(match[2]); m; m = LABEL.exec(match[2])) {
        labels[m[1]] = m[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
        consumed = LABEL.lastIndex;
      }
      if (consumed !== match[2].length) throw new Error(`bad labels in: ${line}`);
    }
    const family = familyOf(families, match[1]);
    if (!family) throw new Error(`sample of an undeclared metric: ${line}`);
    family.samples.push({ name: match[1], labels, value: parseValue(match[3], line) });
  }
  for (const family of families.values()) if (!family.type) throw new Error(`metric ${family.name} has no TYPE`);
  return families;
}

/** The value of the sample `name` whose labels include `labels`, summed over the rest; null if none. */
export function sample(families: Map<string, MetricFamily>, name: string, labels: Record<string, string>): number | null {
  const family = familyOf(families, name);
  const matching = (family?.samples ?? []).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return matching.length ? matching.reduce((sum, s) => sum + s.value, 0) : null;
}
