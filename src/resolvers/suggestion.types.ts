import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { SuggestionCategory } from '../services/prompt-vocabulary';

registerEnumType(SuggestionCategory, { name: 'SuggestionCategory', description: 'The seven kinds of prompt suggestions.' });

@ObjectType({ description: 'A phrase to add to a prompt (autocomplete).' })
export class Suggestion {
  @Field(() => String, { description: 'The phrase.' })
  text: string;

  @Field(() => SuggestionCategory, { description: 'What kind of phrase it is.' })
  category: SuggestionCategory;
}

@ObjectType({ description: 'A prompt with quality and/or style terms added.' })
export class EnhancedPrompt {
  @Field(() => String, { description: 'The enhanced prompt.' })
  prompt: string;

  @Field(() => String, { description: 'The prompt as given (trimmed).' })
  original: string;

  @Field(() => [String], { description: 'Terms added; terms the prompt already had are not repeated.' })
  addedTerms: string[];
}
