import { graphql } from '../gql';

export const SuggestionsQuery = graphql(`
  query Suggestions($query: String!, $limit: Int) {
    suggestions(query: $query, limit: $limit) {
      text
      category
    }
  }
`);

export const PresetsQuery = graphql(`
  query Presets($category: PresetCategory) {
    presets(category: $category) {
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
      builtIn
      mine
      model {
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
  }
`);

export const LorasQuery = graphql(`
  query Loras {
    loras {
      id
      name
      defaultWeight
      triggerWords
      usable
      active
      minTier
      baseModel {
        id
        name
      }
    }
  }
`);

export const FavoriteImageMutation = graphql(`
  mutation FavoriteImage($imageId: ID!) {
    favoriteImage(imageId: $imageId) {
      id
      favorited
    }
  }
`);

export const UnfavoriteImageMutation = graphql(`
  mutation UnfavoriteImage($imageId: ID!) {
    unfavoriteImage(imageId: $imageId) {
      id
      favorited
    }
  }
`);

export const FavoritesQuery = graphql(`
  query Favorites($first: Int, $after: String) {
    favorites(first: $first, after: $after) {
      edges {
        cursor
        node {
          ...GalleryImage
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const GalleryImageFragment = graphql(`
  fragment GalleryImage on Image {
    id
    url
    width
    height
    seed
    index
    favorited
    createdAt
    job {
      id
      prompt
    }
  }
`);
