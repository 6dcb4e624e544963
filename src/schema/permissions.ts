import { GraphQLError, GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { allow, and, deny, rule, shield } from 'graphql-shield';
import { Role } from '../entities';
import type { AppContext } from '../resolvers/context';

const isSignedIn = rule({ cache: 'contextual' })((_parent, _args, ctx: AppContext) =>
  ctx.viewer ? true : new GraphQLError('Sign in first: send Authorization: Bearer <token or API key>', { extensions: { code: 'UNAUTHENTICATED' } }));

const isAdmin = rule({ cache: 'contextual' })((_parent, _args, ctx: AppContext) =>
  ctx.viewer?.user.role === Role.ADMIN ? true : new GraphQLError('Only admins can do this', { extensions: { code: 'FORBIDDEN' } }));

/** EDITOR and ADMIN create things; VIEWER reads and watches. */
const canCreate = rule({ cache: 'contextual' })((_parent, _args, ctx: AppContext) =>
  ctx.viewer && ctx.viewer.user.role !== Role.VIEWER
    ? true
    : new GraphQLError('Viewers can read and watch but not create', { extensions: { code: 'FORBIDDEN' } }));

/**
 * Signed in by a person (a password or single sign-on token), not an API key: what mints or changes
 * credentials, so that a leaked key cannot make itself another key or take the account over.
 */
const byAPerson = rule({ cache: 'contextual' })((_parent, _args, ctx: AppContext) =>
  !ctx.viewer?.apiKeyId
    ? true
    : new GraphQLError('Sign in with your password or single sign-on to do this; API keys cannot', { extensions: { code: 'FORBIDDEN' } }));

const signedIn = isSignedIn;
const editor = and(isSignedIn, canCreate);
const admin = and(isSignedIn, isAdmin);
const inPerson = and(isSignedIn, byAPerson);

/**
 * Every root field, allowed on purpose; anything not listed is denied
 * (fallbackRule). Record ownership is checked in the services.
 */
export const ROOT_RULES = {
  Query: {
    me: allow,
    authProviders: allow,
    job: signedIn,
    jobs: signedIn,
    batch: signedIn,
    batches: signedIn,
    session: signedIn,
    sessions: signedIn,
    models: signedIn,
    usage: signedIn,
    apiKeys: signedIn,
    users: admin,
    auditEvents: admin,
    album: signedIn,
    albums: signedIn,
    sharedAlbum: allow,
    favorites: signedIn,
    presets: signedIn,
    popularPresets: signedIn,
    suggestions: signedIn,
    randomPrompts: signedIn,
    loras: signedIn,
    systemStats: admin,
    tierPolicies: signedIn,
    dataset: signedIn,
    datasets: signedIn,
    trainingRun: signedIn,
    trainingRuns: signedIn,
  },
  Mutation: {
    register: allow,
    login: allow,
    completeSignIn: allow,
    changePassword: inPerson,
    createApiKey: inPerson,
    revokeApiKey: signedIn,
    setApiKeyWebhook: signedIn,
    removeApiKeyWebhook: signedIn,
    testApiKeyWebhook: signedIn,
    createGeneration: editor,
    createVideo: editor,
    cancelJob: signedIn,
    createBatch: editor,
    cancelBatch: signedIn,
    retryJob: editor,
    createSession: editor,
    createSessionInvite: signedIn,
    revokeSessionInvite: signedIn,
    joinSession: signedIn,
    leaveSession: signedIn,
    removeSessionMember: signedIn,
    setUserTier: admin,
    setUserRole: admin,
    createAlbum: editor,
    renameAlbum: editor,
    deleteAlbum: signedIn,
    deleteImage: signedIn,
    deleteJob: signedIn,
    deleteAccount: inPerson,
    addImagesToAlbum: editor,
    removeImagesFromAlbum: editor,
    setAlbumCover: editor,
    reorderAlbumImages: editor,
    shareAlbum: editor,
    unshareAlbum: signedIn,
    createAlbumLink: editor,
    revokeAlbumLink: signedIn,
    favoriteImage: signedIn,
    unfavoriteImage: signedIn,
    createPreset: editor,
    updatePreset: editor,
    deletePreset: editor,
    applyPreset: signedIn,
    enhancePrompt: signedIn,
    registerLora: editor,
    setLoraActive: editor,
    setLoraVisibility: editor,
    setLoraMinTier: admin,
    setModelEnabled: admin,
    setDefaultModel: admin,
    setModelMinTier: admin,
    registerModel: admin,
    updateModel: admin,
    updateTierPolicy: admin,
    createDataset: editor,
    deleteDataset: editor,
    addDatasetImages: editor,
    updateDatasetImage: editor,
    removeDatasetImages: editor,
    startTraining: editor,
    cancelTraining: signedIn,
  },
  Subscription: {
    jobUpdated: signedIn,
    batchUpdated: signedIn,
    sessionEvents: signedIn,
    trainingUpdated: signedIn,
  },
} as const;

/** Mutations only admins may call: each call is recorded in the audit log (src/schema/admin-audit.ts). */
export const ADMIN_MUTATIONS: readonly string[] = Object.entries(ROOT_RULES.Mutation).filter(([, rule]) => rule === admin).map(([field]) => field);

/**
 * The shield for `schema`: root fields per ROOT_RULES, fields of the object
 * types they return are readable (who may reach a record is decided by the
 * root field and the services), everything else denied.
 */
export function permissions(schema: GraphQLSchema) {
  const roots = new Set([schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].map((t) => t?.name));
  const objectTypes = Object.values(schema.getTypeMap())
    .filter((t): t is GraphQLObjectType => t instanceof GraphQLObjectType && !t.name.startsWith('__') && !roots.has(t.name));
  const typeRules = Object.fromEntries(objectTypes.map((t) => [t.name, allow]));
  return shield(
    { ...typeRules, ...ROOT_RULES } as never,
    {
      fallbackRule: deny,
      allowExternalErrors: true,
      fallbackError: new GraphQLError('Not allowed', { extensions: { code: 'FORBIDDEN' } }),
    },
  );
}
