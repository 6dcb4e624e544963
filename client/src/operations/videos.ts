import { graphql } from '../gql';

export const CreateVideoMutation = graphql(`
  mutation CreateVideo($input: VideoInput!, $idempotencyKey: String) {
    createVideo(input: $input, idempotencyKey: $idempotencyKey) {
      ...JobFields
    }
  }
`);

export const VideoPresetsQuery = graphql(`
  query VideoPresets {
    presets(category: VIDEO) {
      id
      name
      template
      durationSeconds
      fps
    }
  }
`);
