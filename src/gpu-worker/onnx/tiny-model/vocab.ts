import { bytesToUnicode, END_TOKEN, START_TOKEN } from '../../pipeline/tokenizer';

/**
 * A small CLIP-format BPE vocabulary for the tiny model, trained at build time
 * on a fixed word list so common prompt words become single tokens. Any other
 * text still encodes (byte-level fallback), exactly as with CLIP's vocab.
 */
const CORPUS = `
a an the of and with in on at by for from under over through into near behind above below beside
portrait landscape painting photo photograph illustration drawing sketch render poster icon logo
red orange yellow green blue purple violet pink magenta cyan teal brown black white grey gray gold
silver crimson scarlet azure emerald turquoise indigo amber ivory pastel neon vivid dark light bright
sunset sunrise night day dawn dusk morning evening sky cloud clouds sun moon star stars galaxy space
ocean sea wave waves beach river lake water rain snow storm fog mist fire flame smoke ice
mountain mountains hill hills valley forest tree trees flower flowers garden field meadow desert
city street building buildings house castle tower bridge road village town skyline ruins temple
cat dog bird fish horse fox wolf dragon lion tiger bear owl rabbit deer butterfly
man woman girl boy child person people face eyes hair robot knight wizard astronaut
car ship boat train airplane rocket bicycle
abstract geometric pattern texture gradient minimal surreal fantasy futuristic cyberpunk steampunk
watercolor oil acrylic digital pixel art style cinematic dramatic soft warm cold calm peaceful
beautiful detailed highly intricate masterpiece quality realistic photorealistic cute epic
lighting glow glowing shadow shadows reflection colorful colourful vibrant muted
big small tiny huge old new ancient modern round square
`;

/** Trains `maxMerges` BPE merges on the corpus; ties break alphabetically so the result is fixed. */
function trainMerges(words: string[], maxMerges: number): string[][] {
  const enc = bytesToUnicode();
  const seqs = words.map((w) => {
    const chars = Array.from(Buffer.from(w, 'utf8'), (b) => enc.get(b) as string);
    chars[chars.length - 1] += '</w>';
    return chars;
  });
  const merges: string[][] = [];
  while (merges.length < maxMerges) {
    const counts = new Map<string, number>();
    for (const s of seqs) {
      for (let i = 0; i < s.length - 1; i++) {
        const key = `${s[i]} ${s[i + 1]}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    if (counts.size === 0) break;
    const [best] = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
    const [first, second] = best.split(' ');
    merges.push([first, second]);
    for (let k = 0; k < seqs.length; k++) seqs[k] = mergeAll(seqs[k], first, second);
  }
  return merges;
}

function mergeAll(seq: string[], first: string, second: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < seq.length; i++) {
    if (i < seq.length - 1 && seq[i] === first && seq[i + 1] === second) {
      out.push(first + second);
      i++;
    } else out.push(seq[i]);
  }
  return out;
}

/** The tokenizer files' contents: vocab (token → id) and merges lines. */
export interface TinyVocab { vocab: Record<string, number>; merges: string[]; size: number }

/** Builds the vocabulary in CLIP's order: 256 bytes, 256 bytes + `</w>`, merges, then specials. */
export function buildVocab(): TinyVocab {
  const words = [...new Set(CORPUS.split(/\s+/).filter(Boolean))];
  const merges = trainMerges(words, 4000);
  const base = [...bytesToUnicode().values()];
  const tokens = [...base, ...base.map((c) => `${c}</w>`), ...merges.map(([a, b]) => a + b)];
  const vocab: Record<string, number> = {};
  let next = 0;
  for (const t of [...tokens, START_TOKEN, END_TOKEN]) {
    if (!(t in vocab)) vocab[t] = next++;
  }
  return { vocab, merges: merges.map(([a, b]) => `${a} ${b}`), size: next };
}
