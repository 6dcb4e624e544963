import { graphql } from '../gql';

export const EnhancePromptMutation = graphql(`
  mutation EnhancePrompt($prompt: String!, $addQuality: Boolean, $addStyle: Boolean) {
    enhancePrompt(prompt: $prompt, addQuality: $addQuality, addStyle: $addStyle) {
      prompt
      original
      addedTerms
    }
  }
`);

export const RandomPromptQuery = graphql(`
  query RandomPrompt {
    randomPrompts(count: 1)
  }
`);
