import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from './errors';

/**
 * CLIP's byte-level BPE tokenizer (the one every Stable Diffusion checkpoint
 * ships in `tokenizer/`): lowercase, split with CLIP's regex, map bytes to
 * printable code points, merge by rank, wrap in start/end tokens and pad.
 */

export const START_TOKEN = '<|startoftext|>';
export const END_TOKEN = '<|endoftext|>';

const CLIP_PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

/** CLIP's byte → printable character table (bytes_to_unicode), in vocab order. */
export function bytesToUnicode(): Map<number, string> {
  const bytes: number[] = [];
  const range = (a: number, b: number): void => {
    for (let i = a; i <= b; i++) bytes.push(i);
  };
  range(0x21, 0x7e);
  range(0xa1, 0xac);
  range(0xae, 0xff);
  const chars = [...bytes];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b);
      chars.push(256 + n++);
    }
  }
  return new Map(bytes.map((b, i) => [b, String.fromCodePoint(chars[i])]));
}

/** Collapses whitespace and lowercases, as CLIP's whitespace_clean + lower. */
export function cleanText(text: string): string {
  return text.normalize('NFC').replace(/\s+/g, ' ').trim().toLowerCase();
}

interface TokenizerFiles { vocab: Record<string, number>; merges: string[]; config: Record<string, unknown> }

function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

/** CLIP BPE tokenizer loaded from a diffusers `tokenizer/` folder. */
export class ClipTokenizer {
  /** Sequence length every encoding is padded or truncated to (77 for CLIP). */
  readonly maxLength: number;
  readonly startId: number;
  readonly endId: number;
  readonly padId: number;
  private readonly ranks = new Map<string, number>();
  private readonly byteEncoder = bytesToUnicode();
  private readonly cache = new Map<string, string[]>();

  private constructor(private readonly vocab: Map<string, number>, merges: string[], config: Record<string, unknown>) {
    merges.forEach((m, i) => this.ranks.set(m, i));
    const id = (tok: string): number => {
      const v = vocab.get(tok);
      if (v === undefined) throw new PipelineError('MODEL_INVALID', `tokenizer vocab lacks ${tok}`);
      return v;
    };
    this.startId = id(tokenContent(config.bos_token) ?? START_TOKEN);
    this.endId = id(tokenContent(config.eos_token) ?? END_TOKEN);
    this.padId = id(tokenContent(config.pad_token) ?? END_TOKEN);
    const max = Number(config.model_max_length);
    this.maxLength = Number.isInteger(max) && max > 2 && max <= 1024 ? max : 77;
  }

  /** Reads vocab.json, merges.txt and the optional tokenizer_config.json / special_tokens_map.json. */
  static async load(dir: string): Promise<ClipTokenizer> {
    const files = await readTokenizerFiles(dir);
    return ClipTokenizer.fromData(files.vocab, files.merges, files.config);
  }

  /** Builds a tokenizer from in-memory data (merges as "a b" lines, without the #version header). */
  static fromData(vocab: Record<string, number>, merges: string[], config: Record<string, unknown> = {}): ClipTokenizer {
    return new ClipTokenizer(new Map(Object.entries(vocab)), merges, config);
  }

  /** Token ids of `text` without start/end tokens or padding. */
  tokenize(text: string): number[] {
    const ids: number[] = [];
    for (const match of cleanText(text).matchAll(CLIP_PATTERN)) {
      const word = Array.from(Buffer.from(match[0], 'utf8'), (b) => this.byteEncoder.get(b) as string).join('');
      for (const piece of this.bpe(word)) ids.push(this.vocab.get(piece) ?? this.endId);
    }
    return ids;
  }

  /** `[start, tokens…, end, pad…]`, truncated/padded to {@link maxLength}, as the text encoder expects. */
  encode(text: string): Int32Array {
    const body = this.tokenize(text).slice(0, this.maxLength - 2);
    const ids = new Int32Array(this.maxLength).fill(this.padId);
    ids[0] = this.startId;
    ids.set(body, 1);
    ids[body.length + 1] = this.endId;
    return ids;
  }

  /** Merges the characters of one pre-token by merge rank (CLIP's `bpe`). */
  private bpe(token: string): string[] {
    const cached = this.cache.get(token);
    if (cached) return cached;
    let word = [...token];
    word[word.length - 1] += '</w>';
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const rank = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      word = mergePair(word, word[best], word[best + 1]);
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(token, word);
    return word;
  }
}

/** Replaces every adjacent (first, second) in `word` by their concatenation. */
function mergePair(word: string[], first: string, second: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < word.length; i++) {
    if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
      out.push(first + second);
      i++;
    } else {
      out.push(word[i]);
    }
  }
  return out;
}

async function readJsonIfPresent(file: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new PipelineError('MODEL_INVALID', `cannot read ${file}: ${(err as Error).message}`);
  }
}

async function readTokenizerFiles(dir: string): Promise<TokenizerFiles> {
  try {
    const vocab = JSON.parse(await readFile(path.join(dir, 'vocab.json'), 'utf8')) as Record<string, number>;
    const lines = (await readFile(path.join(dir, 'merges.txt'), 'utf8')).split('\n');
    const merges = lines.filter((l, i) => l.trim() !== '' && !(i === 0 && l.startsWith('#version')));
    const special = await readJsonIfPresent(path.join(dir, 'special_tokens_map.json'));
    const config = { ...special, ...(await readJsonIfPresent(path.join(dir, 'tokenizer_config.json'))) };
    return { vocab, merges: merges.map((m) => m.trimEnd()), config };
  } catch (err) {
    if (err instanceof PipelineError) throw err;
    throw new PipelineError('MODEL_INVALID', `cannot read tokenizer in ${dir}: ${(err as Error).message}`);
  }
}
