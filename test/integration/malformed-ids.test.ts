import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  buildSchema, getNamedType, isInputObjectType, isScalarType, type GraphQLArgument, type GraphQLInputField, type GraphQLObjectType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, gql, gqlData, wsClient } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';

/*
 * Every argument and input field that takes an id refuses one that is not a
 * UUID with BAD_USER_INPUT on its field, and changes nothing; a well-formed
 * id that names nothing keeps its answer, null or NOT_FOUND
 * (docs/errors.md, "Ids"). Each case has that one id malformed and every
 * other id naming a record the caller (an admin, so no permission rule
 * answers first) may use. The schema is walked for id arguments, so a new
 * one without a case here fails the test.
 */
let app: TestApp;
let admin: factory.TestUser;
let other: factory.TestUser;
const ids = { album: '', session: '', dataset: '', model: '', preset: '' };
const UNKNOWN = '2b7e1516-28ae-4d2a-abf7-158809cf4f3c';
const BAD = 'x';

beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
  admin = await factory.user(app, { role: 'ADMIN', tier: 'ENTERPRISE', prefix: 'ids-admin' });
  other = await factory.user(app, { prefix: 'ids-other' });
  const created = await gqlData<any>(app.url, `mutation {
    createAlbum(name: "ids") { id }
    createSession(name: "ids") { id }
    createDataset(input: { name: "ids" }) { id }
    createPreset(input: { name: "ids", template: "a {prompt}" }) { id }
  }`, {}, admin.token);
  Object.assign(ids, {
    album: created.createAlbum.id, session: created.createSession.id, dataset: created.createDataset.id, preset: created.createPreset.id,
    model: (await gqlData<any>(app.url, '{ models { id } }', {}, admin.token)).models[0].id,
  });
});
afterAll(() => app?.close());

/** Each id argument, as `field.argument` (inputs' fields after a dot), with a document that sends BAD there and the field the error names. */
const CASES: Record<string, () => [document: string, field: string]> = {
  'album.id': () => ['{ album(id: "x") { id } }', 'id'],
  'batch.id': () => ['{ batch(id: "x") { id } }', 'id'],
  'dataset.id': () => ['{ dataset(id: "x") { id } }', 'id'],
  'job.id': () => ['{ job(id: "x") { id } }', 'id'],
  'jobs.sessionId': () => ['{ jobs(sessionId: "x") { edges { cursor } } }', 'sessionId'],
  'session.id': () => ['{ session(id: "x") { id } }', 'id'],
  'trainingRun.id': () => ['{ trainingRun(id: "x") { id } }', 'id'],
  'auditEvents.filter.userId': () => ['{ auditEvents(filter: { userId: "x" }) { edges { cursor } } }', 'filter.userId'],
  'addDatasetImages.datasetId': () => [`mutation { addDatasetImages(datasetId: "x", images: [{ uploadId: "${UNKNOWN}" }]) { id } }`, 'datasetId'],
  'addDatasetImages.images.uploadId': () => [`mutation { addDatasetImages(datasetId: "${ids.dataset}", images: [{ uploadId: "x" }]) { id } }`, 'images[0].uploadId'],
  'addImagesToAlbum.albumId': () => [`mutation { addImagesToAlbum(albumId: "x", imageIds: ["${UNKNOWN}"]) { id } }`, 'albumId'],
  'addImagesToAlbum.imageIds': () => [`mutation { addImagesToAlbum(albumId: "${ids.album}", imageIds: ["x"]) { id } }`, 'imageIds[0]'],
  'applyPreset.id': () => ['mutation { applyPreset(id: "x", prompt: "p") { __typename } }', 'id'],
  'cancelBatch.id': () => ['mutation { cancelBatch(id: "x") { id } }', 'id'],
  'cancelJob.id': () => ['mutation { cancelJob(id: "x") { id } }', 'id'],
  'cancelTraining.id': () => ['mutation { cancelTraining(id: "x") { id } }', 'id'],
  'createAlbumLink.albumId': () => ['mutation { createAlbumLink(albumId: "x") { __typename } }', 'albumId'],
  'createBatch.input.albumId': () => ['mutation { createBatch(input: { prompts: ["p"], albumId: "x" }) { id } }', 'albumId'],
  'createBatch.input.loras.loraId': () => ['mutation { createBatch(input: { prompts: ["p"], loras: [{ loraId: "x", weight: 1 }] }) { id } }', 'loras[0].loraId'],
  'createBatch.input.modelId': () => ['mutation { createBatch(input: { prompts: ["p"], modelId: "x" }) { id } }', 'modelId'],
  'createBatch.input.presetId': () => ['mutation { createBatch(input: { prompts: ["p"], presetId: "x" }) { id } }', 'presetId'],
  'createBatch.input.sessionId': () => ['mutation { createBatch(input: { prompts: ["p"], sessionId: "x" }) { id } }', 'sessionId'],
  'createDataset.input.sessionId': () => ['mutation { createDataset(input: { name: "n", sessionId: "x" }) { id } }', 'sessionId'],
  'createGeneration.input.albumId': () => ['mutation { createGeneration(input: { prompt: "p", albumId: "x" }) { id } }', 'albumId'],
  'createGeneration.input.loras.loraId': () => ['mutation { createGeneration(input: { prompt: "p", loras: [{ loraId: "x", weight: 1 }] }) { id } }', 'loras[0].loraId'],
  'createGeneration.input.modelId': () => ['mutation { createGeneration(input: { prompt: "p", modelId: "x" }) { id } }', 'modelId'],
  'createGeneration.input.presetId': () => ['mutation { createGeneration(input: { prompt: "p", presetId: "x" }) { id } }', 'presetId'],
  'createGeneration.input.sessionId': () => ['mutation { createGeneration(input: { prompt: "p", sessionId: "x" }) { id } }', 'sessionId'],
  'createPreset.input.loras.loraId': () => ['mutation { createPreset(input: { name: "n", template: "a {prompt}", loras: [{ loraId: "x", weight: 1 }] }) { id } }', 'loras[0].loraId'],
  'createPreset.input.modelId': () => ['mutation { createPreset(input: { name: "n", template: "a {prompt}", modelId: "x" }) { id } }', 'modelId'],
  'createPreset.input.sessionId': () => ['mutation { createPreset(input: { name: "n", template: "a {prompt}", sessionId: "x" }) { id } }', 'sessionId'],
  'createSessionInvite.sessionId': () => ['mutation { createSessionInvite(sessionId: "x", role: WATCHER) { token } }', 'sessionId'],
  'createVideo.input.fromImageId': () => ['mutation { createVideo(input: { fromImageId: "x" }) { id } }', 'fromImageId'],
  'createVideo.input.loras.loraId': () => ['mutation { createVideo(input: { prompt: "p", loras: [{ loraId: "x", weight: 1 }] }) { id } }', 'loras[0].loraId'],
  'createVideo.input.modelId': () => ['mutation { createVideo(input: { prompt: "p", modelId: "x" }) { id } }', 'modelId'],
  'createVideo.input.presetId': () => ['mutation { createVideo(input: { prompt: "p", presetId: "x" }) { id } }', 'presetId'],
  'createVideo.input.sessionId': () => ['mutation { createVideo(input: { prompt: "p", sessionId: "x" }) { id } }', 'sessionId'],
  'deleteAlbum.id': () => ['mutation { deleteAlbum(id: "x") }', 'id'],
  'deleteDataset.id': () => ['mutation { deleteDataset(id: "x") }', 'id'],
  'deleteImage.id': () => ['mutation { deleteImage(id: "x") }', 'id'],
  'deleteJob.id': () => ['mutation { deleteJob(id: "x") }', 'id'],
  'deletePreset.id': () => ['mutation { deletePreset(id: "x") }', 'id'],
  'favoriteImage.imageId': () => ['mutation { favoriteImage(imageId: "x") { id } }', 'imageId'],
  'leaveSession.sessionId': () => ['mutation { leaveSession(sessionId: "x") }', 'sessionId'],
  'registerLora.input.baseModelId': () => [`mutation { registerLora(input: { name: "n", baseModelId: "x", uploadId: "${UNKNOWN}" }) { id } }`, 'baseModelId'],
  'registerLora.input.uploadId': () => [`mutation { registerLora(input: { name: "n", baseModelId: "${ids.model}", uploadId: "x" }) { id } }`, 'uploadId'],
  'removeApiKeyWebhook.apiKeyId': () => ['mutation { removeApiKeyWebhook(apiKeyId: "x") { __typename } }', 'apiKeyId'],
  'removeDatasetImages.datasetId': () => [`mutation { removeDatasetImages(datasetId: "x", imageIds: ["${UNKNOWN}"]) }`, 'datasetId'],
  'removeDatasetImages.imageIds': () => [`mutation { removeDatasetImages(datasetId: "${ids.dataset}", imageIds: ["x"]) }`, 'imageIds[0]'],
  'removeImagesFromAlbum.albumId': () => [`mutation { removeImagesFromAlbum(albumId: "x", imageIds: ["${UNKNOWN}"]) { id } }`, 'albumId'],
  'removeImagesFromAlbum.imageIds': () => [`mutation { removeImagesFromAlbum(albumId: "${ids.album}", imageIds: ["x"]) { id } }`, 'imageIds[0]'],
  'removeSessionMember.sessionId': () => [`mutation { removeSessionMember(sessionId: "x", userId: "${other.id}") { id } }`, 'sessionId'],
  'removeSessionMember.userId': () => [`mutation { removeSessionMember(sessionId: "${ids.session}", userId: "x") { id } }`, 'userId'],
  'renameAlbum.id': () => ['mutation { renameAlbum(id: "x", name: "n") { id } }', 'id'],
  'reorderAlbumImages.albumId': () => [`mutation { reorderAlbumImages(albumId: "x", imageIds: ["${UNKNOWN}"]) { id } }`, 'albumId'],
  'reorderAlbumImages.imageIds': () => [`mutation { reorderAlbumImages(albumId: "${ids.album}", imageIds: ["x"]) { id } }`, 'imageIds[0]'],
  'retryJob.id': () => ['mutation { retryJob(id: "x") { id } }', 'id'],
  'revokeAlbumLink.id': () => ['mutation { revokeAlbumLink(id: "x") { __typename } }', 'id'],
  'revokeApiKey.id': () => ['mutation { revokeApiKey(id: "x") { id } }', 'id'],
  'revokeSessionInvite.id': () => ['mutation { revokeSessionInvite(id: "x") { id } }', 'id'],
  'setAlbumCover.albumId': () => [`mutation { setAlbumCover(albumId: "x", imageId: "${UNKNOWN}") { id } }`, 'albumId'],
  'setAlbumCover.imageId': () => [`mutation { setAlbumCover(albumId: "${ids.album}", imageId: "x") { id } }`, 'imageId'],
  'setApiKeyWebhook.apiKeyId': () => ['mutation { setApiKeyWebhook(apiKeyId: "x", url: "https://example.com/hook") { __typename } }', 'apiKeyId'],
  'setDefaultModel.id': () => ['mutation { setDefaultModel(id: "x") { id } }', 'id'],
  'setLoraActive.id': () => ['mutation { setLoraActive(id: "x", active: true) { id } }', 'id'],
  'setLoraMinTier.id': () => ['mutation { setLoraMinTier(id: "x", minTier: FREE) { id } }', 'id'],
  'setLoraVisibility.id': () => ['mutation { setLoraVisibility(id: "x", visibility: PUBLIC) { id } }', 'id'],
  'setModelEnabled.id': () => ['mutation { setModelEnabled(id: "x", enabled: true) { id } }', 'id'],
  'setModelMinTier.id': () => ['mutation { setModelMinTier(id: "x", minTier: FREE) { id } }', 'id'],
  'setUserRole.userId': () => ['mutation { setUserRole(userId: "x", role: EDITOR) { id } }', 'userId'],
  'setUserTier.userId': () => ['mutation { setUserTier(userId: "x", tier: FREE) { id } }', 'userId'],
  'shareAlbum.albumId': () => [`mutation { shareAlbum(albumId: "x", userId: "${other.id}", role: VIEWER) { id } }`, 'albumId'],
  'shareAlbum.userId': () => [`mutation { shareAlbum(albumId: "${ids.album}", userId: "x", role: VIEWER) { id } }`, 'userId'],
  'startTraining.input.baseModelId': () => [`mutation { startTraining(input: { loraName: "n", datasetId: "${ids.dataset}", baseModelId: "x" }) { id } }`, 'baseModelId'],
  'startTraining.input.datasetId': () => ['mutation { startTraining(input: { loraName: "n", datasetId: "x" }) { id } }', 'datasetId'],
  'testApiKeyWebhook.apiKeyId': () => ['mutation { testApiKeyWebhook(apiKeyId: "x") { __typename } }', 'apiKeyId'],
  'unfavoriteImage.imageId': () => ['mutation { unfavoriteImage(imageId: "x") { id } }', 'imageId'],
  'unshareAlbum.albumId': () => [`mutation { unshareAlbum(albumId: "x", userId: "${other.id}") { id } }`, 'albumId'],
  'unshareAlbum.userId': () => [`mutation { unshareAlbum(albumId: "${ids.album}", userId: "x") { id } }`, 'userId'],
  'updateDatasetImage.id': () => ['mutation { updateDatasetImage(id: "x", caption: "c") { id } }', 'id'],
  'updateModel.id': () => ['mutation { updateModel(id: "x", input: { name: "n", backend: ONNX }) { id } }', 'id'],
  'updatePreset.id': () => ['mutation { updatePreset(id: "x", input: { name: "n", template: "a {prompt}" }) { id } }', 'id'],
  'updatePreset.input.loras.loraId': () => [`mutation { updatePreset(id: "${ids.preset}", input: { name: "n", template: "a {prompt}", loras: [{ loraId: "x", weight: 1 }] }) { id } }`, 'loras[0].loraId'],
  'updatePreset.input.modelId': () => [`mutation { updatePreset(id: "${ids.preset}", input: { name: "n", template: "a {prompt}", modelId: "x" }) { id } }`, 'modelId'],
  'updatePreset.input.sessionId': () => [`mutation { updatePreset(id: "${ids.preset}", input: { name: "n", template: "a {prompt}", sessionId: "x" }) { id } }`, 'sessionId'],
  'batchUpdated.batchId': () => ['subscription { batchUpdated(batchId: "x") { __typename } }', 'batchId'],
  'jobUpdated.jobId': () => ['subscription { jobUpdated(jobId: "x") { __typename } }', 'jobId'],
  'sessionEvents.sessionId': () => ['subscription { sessionEvents(sessionId: "x") { __typename } }', 'sessionId'],
  'trainingUpdated.runId': () => ['subscription { trainingUpdated(runId: "x") { __typename } }', 'runId'],
};

/** Every ID argument of the root fields, and every ID field of their input objects, as `field.argument.inputField`. */
function idArguments(): string[] {
  const schema = buildSchema(readFileSync(path.resolve(__dirname, '../../src/schema/schema.graphql'), 'utf8'));
  const found: string[] = [];
  const walk = (prefix: string, inputs: readonly (GraphQLArgument | GraphQLInputField)[], seen: ReadonlySet<string>) => {
    for (const input of inputs) {
      const type = getNamedType(input.type);
      if (isScalarType(type) && type.name === 'ID') found.push(`${prefix}.${input.name}`);
      if (isInputObjectType(type) && !seen.has(type.name)) walk(`${prefix}.${input.name}`, Object.values(type.getFields()), new Set([...seen, type.name]));
    }
  };
  const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()] as GraphQLObjectType[];
  for (const root of roots) for (const field of Object.values(root.getFields())) walk(field.name, field.args, new Set());
  return found.sort();
}

/** Rows per table, but the audit log (refused admin actions are written there): a refused call changes none of them. */
async function rowCounts(): Promise<Record<string, number>> {
  const tables: { name: string }[] = await app.db.query(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'audit_events'`,
  );
  const counts: Record<string, number> = {};
  for (const { name } of tables) counts[name] = Number((await app.db.query(`SELECT count(*) AS n FROM "${name}"`))[0].n);
  return counts;
}

describe('malformed ids', () => {
  it('the cases cover every id argument and input field of the schema', () => {
    expect(Object.keys(CASES).sort()).toEqual(idArguments());
  });

  it('each is BAD_USER_INPUT on its field and changes nothing, over HTTP (queries, mutations) and graphql-ws (subscriptions)', async () => {
    const before = await rowCounts();
    const ws = wsClient(app.url, admin.token);
    try {
      for (const [name, build] of Object.entries(CASES)) {
        const [document, field] = build();
        expect(document, name).toContain(`"${BAD}"`);
        const errors = document.startsWith('subscription')
          ? await (async () => { const stream = collect(ws, document, {}); await stream.done; return stream.errors as any[]; })()
          : (await gql(app.url, document, {}, admin.token)).errors;
        expect(errors?.[0]?.extensions, name).toMatchObject({ code: 'BAD_USER_INPUT', field });
      }
    } finally {
      await ws.dispose();
    }
    expect(await rowCounts()).toEqual(before);
  });

  it('job and batch answer the same over graphql-ws', async () => {
    const ws = wsClient(app.url, admin.token);
    try {
      for (const [document, name] of [['{ job(id: "x") { id } }', 'job'], ['{ batch(id: "x") { id } }', 'batch']]) {
        const answer = collect(ws, document, {});
        await answer.done;
        expect((answer.errors as any[])[0]?.extensions, name).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
      }
    } finally {
      await ws.dispose();
    }
  });

  it('a well-formed id that names nothing, or someone else\'s album or session, keeps its answer: null', async () => {
    const query = 'query($id: ID!, $album: ID!, $session: ID!) { job(id: $id) { id } batch(id: $id) { id } session(id: $session) { id } album(id: $album) { id } }';
    for (const variables of [{ id: UNKNOWN, album: UNKNOWN, session: UNKNOWN }, { id: UNKNOWN, album: ids.album, session: ids.session }]) {
      const res = await gql(app.url, query, variables, other.token);
      expect(res.errors, JSON.stringify(variables)).toBeUndefined();
      expect(res.data).toEqual({ job: null, batch: null, session: null, album: null });
    }
  });
});
