import { graphql } from '../gql';

export const ModelAdminFields = graphql(`
  fragment ModelAdminFields on Model {
    id
    name
    description
    backend
    minTier
    enabled
    isDefault
    endpoints {
      url
      health {
        state
        inFlight
        lastError
        lastCheckedAt
      }
    }
    workflow
    remoteModel
    path
    hasCredential
    waitingForBackend
  }
`);

export const AdminModelsQuery = graphql(`
  query AdminModels {
    models {
      ...ModelAdminFields
    }
  }
`);

export const RegisterModelMutation = graphql(`
  mutation RegisterModel($input: ModelInput!) {
    registerModel(input: $input) {
      ...ModelAdminFields
    }
  }
`);

export const UpdateModelMutation = graphql(`
  mutation UpdateModel($id: ID!, $input: ModelInput!) {
    updateModel(id: $id, input: $input) {
      ...ModelAdminFields
    }
  }
`);
