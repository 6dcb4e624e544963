import { badInput } from '../kernel/errors';
import { PROMPT_VOCABULARY, QUALITY_TERMS, STYLE_TERMS, SuggestionCategory, vocabularyOf, type VocabularyEntry } from './prompt-vocabulary';
import { isBlank } from '../kernel/visible-text';

/** A ranked suggestion: `rank` 0 = the entry starts with the query, 1 = a word does, 2 = it contains it. */
export interface RankedSuggestion extends VocabularyEntry {
  rank: number;
}

/** The result of {@link enhancePrompt}. */
export interface EnhancedPromptResult {
  original: string;
  prompt: string;
  addedTerms: string[];
}

const MAX_QUERY = 200;

function normalise(text: string): string {
  return text.trim().toLowerCase().replace(/\s+/g, ' ');
}

/** 0 prefix, 1 word-prefix, 2 substring, null no match. */
export function matchRank(text: string, query: string): number | null {
  const t = text.toLowerCase();
  if (t.startsWith(query)) return 0;
  if (new RegExp(`(^|[\\s,-])${escapeRegExp(query)}`).test(t)) return 1;
  return t.includes(query) ? 2 : null;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Autocomplete over the vocabulary: prefix matches first, then word-prefix,
 * then substring; within a rank shorter phrases first (closer to what was typed).
 * A blank query lists entries in vocabulary order.
 */
export function rankSuggestions(queryRaw: string, limitRaw: number | null | undefined, vocabulary = PROMPT_VOCABULARY): RankedSuggestion[] {
  const limit = limitRaw ?? 10;
  if (!Number.isInteger(limit) || limit < 1 || limit > 50) throw badInput('limit', 'limit must be an integer from 1 to 50');
  if (queryRaw.length > MAX_QUERY) throw badInput('query', `query must be at most ${MAX_QUERY} characters`);
  const query = normalise(queryRaw);
  if (!query) return vocabulary.slice(0, limit).map((e) => ({ ...e, rank: 0 }));
  return vocabulary
    .map((e, order) => ({ entry: e, order, rank: matchRank(e.text, query) }))
    .filter((m): m is { entry: VocabularyEntry; order: number; rank: number } => m.rank !== null)
    .sort((a, b) => a.rank - b.rank || a.entry.text.length - b.entry.text.length || a.order - b.order)
    .slice(0, limit)
    .map((m) => ({ ...m.entry, rank: m.rank }));
}

/** The comma-separated terms of a prompt, normalised, for duplicate checks. */
function termsOf(prompt: string): string[] {
  return prompt.split(',').map(normalise).filter(Boolean);
}

/** A term is already there when the prompt has it as a term or inside one ("8k uhd" covers "8k"). */
function alreadyHas(terms: string[], term: string): boolean {
  const t = normalise(term);
  return terms.some((existing) => existing === t || existing.includes(t) || (t.includes(existing) && existing.length > 3));
}

/**
 * Appends quality and/or style terms the prompt does not already carry
 * (case- and spacing-insensitive), keeping the user's own words first.
 */
export function enhancePrompt(promptRaw: string, addQuality = true, addStyle = false): EnhancedPromptResult {
  const original = promptRaw.trim();
  if (isBlank(original)) throw badInput('prompt', 'prompt must not be empty');
  if (original.length > 2000) throw badInput('prompt', 'prompt must be at most 2000 characters');
  const terms = termsOf(original);
  const wanted = [...(addQuality ? QUALITY_TERMS : []), ...(addStyle ? STYLE_TERMS : [])];
  const added: string[] = [];
  for (const term of wanted) {
    if (alreadyHas([...terms, ...added], term)) continue;
    added.push(term);
  }
  const prompt = added.length ? `${original.replace(/[\s,]+$/, '')}, ${added.join(', ')}` : original;
  if (prompt.length > 2000) throw badInput('prompt', 'the enhanced prompt would exceed 2000 characters');
  return { original, prompt, addedTerms: added };
}

/**
 * `count` prompts, each a subject, a style, a lighting and a quality term.
 * Distinct where the vocabulary allows; `random` returns [0, 1).
 */
export function randomPrompts(countRaw: number | null | undefined, random: () => number = Math.random): string[] {
  const count = countRaw ?? 5;
  if (!Number.isInteger(count) || count < 1 || count > 20) throw badInput('count', 'count must be an integer from 1 to 20');
  const pick = (category: SuggestionCategory): string => {
    const entries = vocabularyOf(category);
    return entries[Math.min(entries.length - 1, Math.floor(random() * entries.length))].text;
  };
  const prompts = new Set<string>();
  for (let attempt = 0; prompts.size < count && attempt < count * 20; attempt += 1) {
    prompts.add([SuggestionCategory.SUBJECTS, SuggestionCategory.STYLES, SuggestionCategory.LIGHTING, SuggestionCategory.QUALITY].map(pick).join(', '));
  }
  return [...prompts];
}

/** Prompt suggestions, enhancement and random prompts for the API. */
export class SuggestionService {
  constructor(private readonly random: () => number = Math.random) {}

  suggest(query: string, limit?: number | null): RankedSuggestion[] {
    return rankSuggestions(query, limit);
  }

  enhance(prompt: string, addQuality?: boolean | null, addStyle?: boolean | null): EnhancedPromptResult {
    return enhancePrompt(prompt, addQuality ?? true, addStyle ?? false);
  }

  randomPrompts(count?: number | null): string[] {
    return randomPrompts(count, this.random);
  }
}
