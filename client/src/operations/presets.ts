import { graphql } from '../gql';

export const PresetFieldsFragment = graphql(`
  fragment PresetFields on Preset {
    id
    name
    category
    template
    negativePrompt
    width
    height
    steps
    guidanceScale
    sampler
    fps
    durationSeconds
    builtIn
    mine
    usageCount
    model {
      id
      name
    }
    session {
      id
      name
    }
    loras {
      loraId
      weight
      lora {
        id
        name
      }
    }
  }
`);

export const PresetLibraryQuery = graphql(`
  query PresetLibrary {
    presets {
      ...PresetFields
    }
  }
`);

export const CreatePresetMutation = graphql(`
  mutation CreatePreset($input: PresetInput!) {
    createPreset(input: $input) {
      ...PresetFields
    }
  }
`);

export const UpdatePresetMutation = graphql(`
  mutation UpdatePreset($id: ID!, $input: PresetInput!) {
    updatePreset(id: $id, input: $input) {
      ...PresetFields
    }
  }
`);

export const DeletePresetMutation = graphql(`
  mutation DeletePreset($id: ID!) {
    deletePreset(id: $id)
  }
`);
