import { graphql } from '../gql';

export const LoraLibraryQuery = graphql(`
  query LoraLibrary {
    loras {
      ...LoraRow
    }
  }
`);

export const LoraRowFragment = graphql(`
  fragment LoraRow on Lora {
    id
    name
    version
    triggerWords
    defaultWeight
    active
    usable
    minTier
    visibility
    mine
    createdAt
    baseModel {
      id
      name
    }
  }
`);

export const RegisterLoraMutation = graphql(`
  mutation RegisterLora($input: LoraInput!) {
    registerLora(input: $input) {
      ...LoraRow
    }
  }
`);

export const SetLoraActiveMutation = graphql(`
  mutation SetLoraActive($id: ID!, $active: Boolean!) {
    setLoraActive(id: $id, active: $active) {
      id
      active
      usable
    }
  }
`);

export const SetLoraVisibilityMutation = graphql(`
  mutation SetLoraVisibility($id: ID!, $visibility: LoraVisibility!) {
    setLoraVisibility(id: $id, visibility: $visibility) {
      id
      visibility
      usable
    }
  }
`);
