import { Arg, Ctx, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { AppContext } from './context';
import { EnhancedPrompt, Suggestion } from './suggestion.types';

@Resolver()
export class SuggestionResolver {
  @Query(() => [Suggestion], { description: 'Autocomplete: phrases starting with the query first, then those with a word starting with it, then any containing it.' })
  suggestions(
    @Arg('query', () => String, { description: 'What was typed so far.' }) query: string,
    @Arg('limit', () => Int, { nullable: true, description: 'At most this many, 1..50 (default 10).' }) limit: number | null,
    @Ctx() ctx: AppContext,
  ): Suggestion[] {
    return ctx.services.suggestions.suggest(query, limit).map(({ text, category }) => ({ text, category }));
  }

  @Query(() => [String], { description: 'Prompts composed of a subject, a style, a lighting and a quality term.' })
  randomPrompts(
    @Arg('count', () => Int, { nullable: true, description: 'How many, 1..20 (default 5).' }) count: number | null,
    @Ctx() ctx: AppContext,
  ): string[] {
    return ctx.services.suggestions.randomPrompts(count);
  }

  @Mutation(() => EnhancedPrompt, { description: 'Adds quality and/or style terms the prompt does not already have. Changes nothing stored.' })
  enhancePrompt(
    @Arg('prompt', () => String, { description: 'The prompt to enhance.' }) prompt: string,
    @Arg('addQuality', () => Boolean, { nullable: true, description: 'Add quality terms (default true).' }) addQuality: boolean | null,
    @Arg('addStyle', () => Boolean, { nullable: true, description: 'Add style terms (default false).' }) addStyle: boolean | null,
    @Ctx() ctx: AppContext,
  ): EnhancedPrompt {
    return ctx.services.suggestions.enhance(prompt, addQuality, addStyle);
  }
}
