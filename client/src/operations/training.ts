import { graphql } from '../gql';

export const TrainingLimitsQuery = graphql(`
  query TrainingLimits {
    usage {
      limits {
        tier
        trainingRunsPerDay
        maxConcurrentTrainingRuns
        maxTrainingSteps
        maxDatasetImages
      }
    }
  }
`);

export const DatasetsQuery = graphql(`
  query Datasets {
    datasets(first: 50) {
      edges {
        node {
          id
          name
          mine
        }
      }
    }
  }
`);

export const DatasetQuery = graphql(`
  query Dataset($id: ID!) {
    dataset(id: $id) {
      id
      name
      mine
      images {
        id
        caption
        url
        width
        height
        format
      }
    }
  }
`);

export const CreateDatasetMutation = graphql(`
  mutation CreateDataset($input: DatasetInput!) {
    createDataset(input: $input) {
      id
      name
    }
  }
`);

export const AddDatasetImagesMutation = graphql(`
  mutation AddDatasetImages($datasetId: ID!, $images: [DatasetImageInput!]!) {
    addDatasetImages(datasetId: $datasetId, images: $images) {
      id
    }
  }
`);

export const UpdateDatasetImageMutation = graphql(`
  mutation UpdateDatasetImage($id: ID!, $caption: String!) {
    updateDatasetImage(id: $id, caption: $caption) {
      id
      caption
    }
  }
`);

export const StartTrainingMutation = graphql(`
  mutation StartTraining($input: TrainingInput!) {
    startTraining(input: $input) {
      id
    }
  }
`);

export const TrainingRunsQuery = graphql(`
  query TrainingRuns {
    trainingRuns(first: 20) {
      edges {
        node {
          id
          loraName
          status
          step
          totalSteps
          createdAt
        }
      }
    }
  }
`);

export const TrainingRunQuery = graphql(`
  query TrainingRun($id: ID!) {
    trainingRun(id: $id) {
      id
      loraName
      status
      step
      totalSteps
      checkpointUrl
      config {
        steps
        rank
        learningRate
        samplePrompts
      }
      samples {
        step
        samples {
          prompt
          url
        }
      }
      lora {
        id
        name
        version
        metrics {
          finalLoss
          lossCurve {
            step
            loss
          }
          evaluationCurve {
            step
            loss
          }
        }
      }
    }
  }
`);

export const TrainingUpdatedSubscription = graphql(`
  subscription TrainingUpdated($runId: ID!, $after: String) {
    trainingUpdated(runId: $runId, after: $after) {
      eventId
      type
      step
      totalSteps
      loss
      evaluationLoss
      etaSeconds
      loraId
      finalLoss
      samples {
        prompt
        url
      }
      error {
        message
      }
    }
  }
`);

export const CancelTrainingMutation = graphql(`
  mutation CancelTraining($id: ID!) {
    cancelTraining(id: $id) {
      id
      status
      step
      totalSteps
    }
  }
`);

export const RemoveDatasetImagesMutation = graphql(`
  mutation RemoveDatasetImages($datasetId: ID!, $imageIds: [ID!]!) {
    removeDatasetImages(datasetId: $datasetId, imageIds: $imageIds)
  }
`);

export const DeleteDatasetMutation = graphql(`
  mutation DeleteDataset($id: ID!) {
    deleteDataset(id: $id)
  }
`);
