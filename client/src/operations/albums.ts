import { graphql } from '../gql';

export const AlbumSummaryFragment = graphql(`
  fragment AlbumSummary on Album {
    id
    name
    description
    imageCount
    viewerRole
    updatedAt
    cover {
      id
      url
    }
  }
`);

export const AlbumsQuery = graphql(`
  query Albums($first: Int, $after: String) {
    albums(first: $first, after: $after) {
      edges {
        cursor
        node {
          ...AlbumSummary
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const AlbumQuery = graphql(`
  query Album($id: ID!, $first: Int, $after: String) {
    album(id: $id) {
      ...AlbumSummary
      owner {
        id
        displayName
        email
      }
      members {
        role
        sharedAt
        user {
          id
          displayName
          email
        }
      }
      links {
        id
        createdAt
        expiresAt
        revokedAt
      }
      images(first: $first, after: $after) {
        edges {
          cursor
          position
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
  }
`);

export const SharedAlbumQuery = graphql(`
  query SharedAlbum($token: String!, $first: Int, $after: String) {
    sharedAlbum(token: $token) {
      id
      name
      ownerName
      description
      imageCount
      images(first: $first, after: $after) {
        edges {
          cursor
          node {
            id
            url
            width
            height
            seed
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

export const CreateAlbumMutation = graphql(`
  mutation CreateAlbum($name: String!, $description: String) {
    createAlbum(name: $name, description: $description) {
      ...AlbumSummary
    }
  }
`);

export const AddImagesToAlbumMutation = graphql(`
  mutation AddImagesToAlbum($albumId: ID!, $imageIds: [ID!]!) {
    addImagesToAlbum(albumId: $albumId, imageIds: $imageIds) {
      ...AlbumSummary
    }
  }
`);

export const RemoveImagesFromAlbumMutation = graphql(`
  mutation RemoveImagesFromAlbum($albumId: ID!, $imageIds: [ID!]!) {
    removeImagesFromAlbum(albumId: $albumId, imageIds: $imageIds) {
      ...AlbumSummary
    }
  }
`);

export const DeleteAlbumMutation = graphql(`
  mutation DeleteAlbum($id: ID!) {
    deleteAlbum(id: $id)
  }
`);

export const CreateAlbumLinkMutation = graphql(`
  mutation CreateAlbumLink($albumId: ID!, $expiresInHours: Int) {
    createAlbumLink(albumId: $albumId, expiresInHours: $expiresInHours) {
      token
      link {
        id
        createdAt
        expiresAt
        revokedAt
      }
    }
  }
`);

export const RevokeAlbumLinkMutation = graphql(`
  mutation RevokeAlbumLink($id: ID!) {
    revokeAlbumLink(id: $id) {
      id
      revokedAt
    }
  }
`);

export const ShareAlbumMutation = graphql(`
  mutation ShareAlbum($albumId: ID!, $userId: ID!, $role: AlbumRole!) {
    shareAlbum(albumId: $albumId, userId: $userId, role: $role) {
      id
      members {
        role
        sharedAt
        user {
          id
          displayName
          email
        }
      }
    }
  }
`);

export const UnshareAlbumMutation = graphql(`
  mutation UnshareAlbum($albumId: ID!, $userId: ID!) {
    unshareAlbum(albumId: $albumId, userId: $userId) {
      id
      members {
        role
        sharedAt
        user {
          id
          displayName
          email
        }
      }
    }
  }
`);
