import { graphql } from '../gql';

export const ViewerFieldsFragment = graphql(`
  fragment ViewerFields on User {
    id
    email
    displayName
    role
    tier
  }
`);

export const MeQuery = graphql(`
  query Me {
    me {
      ...ViewerFields
    }
  }
`);

export const RegisterMutation = graphql(`
  mutation Register($email: String!, $password: String!, $displayName: String) {
    register(email: $email, password: $password, displayName: $displayName) {
      token
      user {
        ...ViewerFields
      }
    }
  }
`);

export const LoginMutation = graphql(`
  mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) {
      token
      user {
        ...ViewerFields
      }
    }
  }
`);

export const AuthProvidersQuery = graphql(`
  query AuthProviders {
    authProviders {
      id
      name
      startUrl
    }
  }
`);

export const CompleteSignInMutation = graphql(`
  mutation CompleteSignIn($code: String!) {
    completeSignIn(code: $code) {
      token
      user {
        ...ViewerFields
      }
    }
  }
`);
