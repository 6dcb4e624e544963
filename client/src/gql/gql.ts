/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query AdminUsers($first: Int!, $offset: Int!) {\n    users(first: $first, offset: $offset) {\n      id\n      email\n      displayName\n      role\n      tier\n      createdAt\n    }\n  }\n": typeof types.AdminUsersDocument,
    "\n  mutation SetUserTier($userId: ID!, $tier: Tier!) {\n    setUserTier(userId: $userId, tier: $tier) {\n      id\n      tier\n    }\n  }\n": typeof types.SetUserTierDocument,
    "\n  mutation SetUserRole($userId: ID!, $role: Role!) {\n    setUserRole(userId: $userId, role: $role) {\n      id\n      role\n    }\n  }\n": typeof types.SetUserRoleDocument,
    "\n  query SystemStats($windowHours: Int, $errorLimit: Int) {\n    systemStats(windowHours: $windowHours, errorLimit: $errorLimit) {\n      startedAt\n      uptimeSeconds\n      windowHours\n      queue {\n        waiting\n        active\n        delayed\n        failed\n      }\n      jobsByStatus {\n        status\n        count\n      }\n      generationTime {\n        completedJobs\n        averageSeconds\n        p50Seconds\n        p95Seconds\n        averageQueueWaitSeconds\n      }\n      workers {\n        id\n        hostname\n        pid\n        activeJobs\n        concurrency\n        executionProvider\n        loadedModels\n        lastSeenAt\n      }\n      recentErrors {\n        at\n        code\n        message\n        source\n        operation\n        jobId\n      }\n      usage {\n        imagesGenerated\n      }\n    }\n  }\n": typeof types.SystemStatsDocument,
    "\n  query AuditEvents($filter: AuditEventFilter, $first: Int, $after: String) {\n    auditEvents(filter: $filter, first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          at\n          kind\n          address\n          userAgent\n          reason\n          details\n          actor {\n            id\n            email\n            displayName\n          }\n          targetUser {\n            id\n            email\n            displayName\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.AuditEventsDocument,
    "\n  fragment AlbumSummary on Album {\n    id\n    name\n    description\n    imageCount\n    viewerRole\n    updatedAt\n    cover {\n      id\n      url\n    }\n  }\n": typeof types.AlbumSummaryFragmentDoc,
    "\n  query Albums($first: Int, $after: String) {\n    albums(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...AlbumSummary\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.AlbumsDocument,
    "\n  query Album($id: ID!, $first: Int, $after: String) {\n    album(id: $id) {\n      ...AlbumSummary\n      owner {\n        id\n        displayName\n        email\n      }\n      members {\n        role\n        sharedAt\n        user {\n          id\n          displayName\n          email\n        }\n      }\n      links {\n        id\n        createdAt\n        expiresAt\n        revokedAt\n      }\n      images(first: $first, after: $after) {\n        edges {\n          cursor\n          position\n          node {\n            ...GalleryImage\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.AlbumDocument,
    "\n  query SharedAlbum($token: String!, $first: Int, $after: String) {\n    sharedAlbum(token: $token) {\n      id\n      name\n      ownerName\n      description\n      imageCount\n      images(first: $first, after: $after) {\n        edges {\n          cursor\n          node {\n            id\n            url\n            width\n            height\n            seed\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.SharedAlbumDocument,
    "\n  mutation CreateAlbum($name: String!, $description: String) {\n    createAlbum(name: $name, description: $description) {\n      ...AlbumSummary\n    }\n  }\n": typeof types.CreateAlbumDocument,
    "\n  mutation AddImagesToAlbum($albumId: ID!, $imageIds: [ID!]!) {\n    addImagesToAlbum(albumId: $albumId, imageIds: $imageIds) {\n      ...AlbumSummary\n    }\n  }\n": typeof types.AddImagesToAlbumDocument,
    "\n  mutation RemoveImagesFromAlbum($albumId: ID!, $imageIds: [ID!]!) {\n    removeImagesFromAlbum(albumId: $albumId, imageIds: $imageIds) {\n      ...AlbumSummary\n    }\n  }\n": typeof types.RemoveImagesFromAlbumDocument,
    "\n  mutation DeleteAlbum($id: ID!) {\n    deleteAlbum(id: $id)\n  }\n": typeof types.DeleteAlbumDocument,
    "\n  mutation CreateAlbumLink($albumId: ID!, $expiresInHours: Int) {\n    createAlbumLink(albumId: $albumId, expiresInHours: $expiresInHours) {\n      token\n      link {\n        id\n        createdAt\n        expiresAt\n        revokedAt\n      }\n    }\n  }\n": typeof types.CreateAlbumLinkDocument,
    "\n  mutation RevokeAlbumLink($id: ID!) {\n    revokeAlbumLink(id: $id) {\n      id\n      revokedAt\n    }\n  }\n": typeof types.RevokeAlbumLinkDocument,
    "\n  mutation ShareAlbum($albumId: ID!, $userId: ID!, $role: AlbumRole!) {\n    shareAlbum(albumId: $albumId, userId: $userId, role: $role) {\n      id\n      members {\n        role\n        sharedAt\n        user {\n          id\n          displayName\n          email\n        }\n      }\n    }\n  }\n": typeof types.ShareAlbumDocument,
    "\n  mutation UnshareAlbum($albumId: ID!, $userId: ID!) {\n    unshareAlbum(albumId: $albumId, userId: $userId) {\n      id\n      members {\n        role\n        sharedAt\n        user {\n          id\n          displayName\n          email\n        }\n      }\n    }\n  }\n": typeof types.UnshareAlbumDocument,
    "\n  query ApiKeys {\n    apiKeys {\n      id\n      name\n      prefix\n      createdAt\n      lastUsedAt\n      revokedAt\n    }\n  }\n": typeof types.ApiKeysDocument,
    "\n  mutation CreateApiKey($name: String!) {\n    createApiKey(name: $name) {\n      secret\n      apiKey {\n        id\n        name\n        prefix\n        createdAt\n        lastUsedAt\n        revokedAt\n      }\n    }\n  }\n": typeof types.CreateApiKeyDocument,
    "\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) {\n      id\n      revokedAt\n    }\n  }\n": typeof types.RevokeApiKeyDocument,
    "\n  fragment ViewerFields on User {\n    id\n    email\n    displayName\n    role\n    tier\n  }\n": typeof types.ViewerFieldsFragmentDoc,
    "\n  query Me {\n    me {\n      ...ViewerFields\n    }\n  }\n": typeof types.MeDocument,
    "\n  mutation Register($email: String!, $password: String!, $displayName: String) {\n    register(email: $email, password: $password, displayName: $displayName) {\n      token\n      user {\n        ...ViewerFields\n      }\n    }\n  }\n": typeof types.RegisterDocument,
    "\n  mutation Login($email: String!, $password: String!) {\n    login(email: $email, password: $password) {\n      token\n      user {\n        ...ViewerFields\n      }\n    }\n  }\n": typeof types.LoginDocument,
    "\n  query AuthProviders {\n    authProviders {\n      id\n      name\n      startUrl\n    }\n  }\n": typeof types.AuthProvidersDocument,
    "\n  mutation CompleteSignIn($code: String!) {\n    completeSignIn(code: $code) {\n      token\n      user {\n        ...ViewerFields\n      }\n    }\n  }\n": typeof types.CompleteSignInDocument,
    "\n  fragment BatchFields on Batch {\n    id\n    name\n    kind\n    total\n    completed\n    failed\n    cancelled\n    progress\n    status\n    createdAt\n    completedAt\n    owner {\n      id\n    }\n    session {\n      id\n      myRole\n    }\n    axes {\n      rowLabels\n      columnLabels\n    }\n    grid {\n      url\n      width\n      height\n    }\n  }\n": typeof types.BatchFieldsFragmentDoc,
    "\n  fragment BatchJobFields on Job {\n    id\n    status\n    prompt\n    seed\n    steps\n    guidanceScale\n    batchIndex\n    images {\n      id\n      url\n      width\n      height\n    }\n  }\n": typeof types.BatchJobFieldsFragmentDoc,
    "\n  query Batch($id: ID!, $first: Int!, $after: String) {\n    batch(id: $id) {\n      ...BatchFields\n      jobs(first: $first, after: $after) {\n        edges {\n          cursor\n          node {\n            ...BatchJobFields\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.BatchDocument,
    "\n  query Batches($first: Int, $after: String) {\n    batches(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          name\n          kind\n          total\n          progress\n          status\n          createdAt\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.BatchesDocument,
    "\n  mutation CreateBatch($input: BatchInput!, $idempotencyKey: String) {\n    createBatch(input: $input, idempotencyKey: $idempotencyKey) {\n      id\n      name\n      total\n      status\n    }\n  }\n": typeof types.CreateBatchDocument,
    "\n  mutation CancelBatch($id: ID!) {\n    cancelBatch(id: $id) {\n      id\n      status\n      cancelled\n      progress\n    }\n  }\n": typeof types.CancelBatchDocument,
    "\n  subscription BatchUpdated($batchId: ID!, $after: String) {\n    batchUpdated(batchId: $batchId, after: $after) {\n      eventId\n      type\n      jobId\n      preview\n      counts {\n        total\n        completed\n        failed\n        cancelled\n        progress\n        status\n      }\n    }\n  }\n": typeof types.BatchUpdatedDocument,
    "\n  fragment JobFields on Job {\n    id\n    status\n    sampler\n    prompt\n    negativePrompt\n    width\n    height\n    steps\n    guidanceScale\n    seed\n    count\n    step\n    totalSteps\n    progress\n    queuePosition\n    etaSeconds\n    waitingFor\n    createdAt\n    startedAt\n    completedAt\n    executionProvider\n    error {\n      code\n      message\n    }\n    owner {\n      id\n      displayName\n      email\n    }\n    session {\n      id\n      name\n    }\n    model {\n      id\n      name\n    }\n    loras {\n      loraId\n      weight\n      lora {\n        id\n        name\n      }\n    }\n    images {\n      id\n      url\n      width\n      height\n      seed\n      index\n      favorited\n    }\n    kind\n    videoFrames\n    videoFps\n    video {\n      url\n      posterUrl\n      mimeType\n      durationSeconds\n      fps\n      frames\n      width\n      height\n      bytes\n    }\n  }\n": typeof types.JobFieldsFragmentDoc,
    "\n  query Job($id: ID!) {\n    job(id: $id) {\n      ...JobFields\n    }\n  }\n": typeof types.JobDocument,
    "\n  query Jobs($first: Int, $after: String, $sessionId: ID, $status: JobStatus) {\n    jobs(first: $first, after: $after, sessionId: $sessionId, status: $status) {\n      edges {\n        cursor\n        node {\n          ...JobFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.JobsDocument,
    "\n  mutation CreateGeneration($input: GenerationInput!, $idempotencyKey: String) {\n    createGeneration(input: $input, idempotencyKey: $idempotencyKey) {\n      ...JobFields\n    }\n  }\n": typeof types.CreateGenerationDocument,
    "\n  mutation CancelJob($id: ID!) {\n    cancelJob(id: $id) {\n      id\n      status\n    }\n  }\n": typeof types.CancelJobDocument,
    "\n  mutation RetryJob($id: ID!) {\n    retryJob(id: $id) {\n      ...JobFields\n    }\n  }\n": typeof types.RetryJobDocument,
    "\n  subscription JobUpdated($jobId: ID!, $after: String) {\n    jobUpdated(jobId: $jobId, after: $after) {\n      eventId\n      type\n      at\n      jobId\n      step\n      totalSteps\n      progress\n      preview\n      imageIds\n      queuePosition\n      requeueReason\n      etaSeconds\n      error {\n        code\n        message\n      }\n    }\n  }\n": typeof types.JobUpdatedDocument,
    "\n  query Usage {\n    usage {\n      tier\n      openJobs\n      imagesToday\n      imagesRemainingToday\n      videoSecondsToday\n      resetsAt\n      limits {\n        tier\n        maxWidth\n        maxHeight\n        maxSteps\n        maxCount\n        maxLoras\n        maxOpenJobs\n        imagesPerDay\n        videoSecondsPerDay\n        maxVideoSeconds\n        maxVideoFps\n      }\n    }\n  }\n": typeof types.UsageDocument,
    "\n  query Models {\n    models {\n      id\n      name\n      description\n      isDefault\n      enabled\n      minTier\n      backend\n      waitingForBackend\n    }\n  }\n": typeof types.ModelsDocument,
    "\n  query Suggestions($query: String!, $limit: Int) {\n    suggestions(query: $query, limit: $limit) {\n      text\n      category\n    }\n  }\n": typeof types.SuggestionsDocument,
    "\n  query Presets($category: PresetCategory) {\n    presets(category: $category) {\n      id\n      name\n      category\n      template\n      negativePrompt\n      width\n      height\n      steps\n      guidanceScale\n      sampler\n      builtIn\n      mine\n      model {\n        id\n        name\n      }\n      loras {\n        loraId\n        weight\n        lora {\n          id\n          name\n        }\n      }\n    }\n  }\n": typeof types.PresetsDocument,
    "\n  query Loras {\n    loras {\n      id\n      name\n      defaultWeight\n      triggerWords\n      usable\n      active\n      minTier\n      baseModel {\n        id\n        name\n      }\n    }\n  }\n": typeof types.LorasDocument,
    "\n  mutation FavoriteImage($imageId: ID!) {\n    favoriteImage(imageId: $imageId) {\n      id\n      favorited\n    }\n  }\n": typeof types.FavoriteImageDocument,
    "\n  mutation UnfavoriteImage($imageId: ID!) {\n    unfavoriteImage(imageId: $imageId) {\n      id\n      favorited\n    }\n  }\n": typeof types.UnfavoriteImageDocument,
    "\n  query Favorites($first: Int, $after: String) {\n    favorites(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...GalleryImage\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.FavoritesDocument,
    "\n  fragment GalleryImage on Image {\n    id\n    url\n    width\n    height\n    seed\n    index\n    favorited\n    createdAt\n    job {\n      id\n      prompt\n    }\n  }\n": typeof types.GalleryImageFragmentDoc,
    "\n  query LoraLibrary {\n    loras {\n      ...LoraRow\n    }\n  }\n": typeof types.LoraLibraryDocument,
    "\n  fragment LoraRow on Lora {\n    id\n    name\n    version\n    triggerWords\n    defaultWeight\n    active\n    usable\n    minTier\n    visibility\n    mine\n    createdAt\n    baseModel {\n      id\n      name\n    }\n  }\n": typeof types.LoraRowFragmentDoc,
    "\n  mutation RegisterLora($input: LoraInput!) {\n    registerLora(input: $input) {\n      ...LoraRow\n    }\n  }\n": typeof types.RegisterLoraDocument,
    "\n  mutation SetLoraActive($id: ID!, $active: Boolean!) {\n    setLoraActive(id: $id, active: $active) {\n      id\n      active\n      usable\n    }\n  }\n": typeof types.SetLoraActiveDocument,
    "\n  mutation SetLoraVisibility($id: ID!, $visibility: LoraVisibility!) {\n    setLoraVisibility(id: $id, visibility: $visibility) {\n      id\n      visibility\n      usable\n    }\n  }\n": typeof types.SetLoraVisibilityDocument,
    "\n  fragment ModelAdminFields on Model {\n    id\n    name\n    description\n    backend\n    minTier\n    enabled\n    isDefault\n    endpoints {\n      url\n      health {\n        state\n        inFlight\n        lastError\n        lastCheckedAt\n      }\n    }\n    workflow\n    remoteModel\n    path\n    hasCredential\n    waitingForBackend\n  }\n": typeof types.ModelAdminFieldsFragmentDoc,
    "\n  query AdminModels {\n    models {\n      ...ModelAdminFields\n    }\n  }\n": typeof types.AdminModelsDocument,
    "\n  mutation RegisterModel($input: ModelInput!) {\n    registerModel(input: $input) {\n      ...ModelAdminFields\n    }\n  }\n": typeof types.RegisterModelDocument,
    "\n  mutation UpdateModel($id: ID!, $input: ModelInput!) {\n    updateModel(id: $id, input: $input) {\n      ...ModelAdminFields\n    }\n  }\n": typeof types.UpdateModelDocument,
    "\n  fragment PresetFields on Preset {\n    id\n    name\n    category\n    template\n    negativePrompt\n    width\n    height\n    steps\n    guidanceScale\n    sampler\n    fps\n    durationSeconds\n    builtIn\n    mine\n    usageCount\n    model {\n      id\n      name\n    }\n    session {\n      id\n      name\n    }\n    loras {\n      loraId\n      weight\n      lora {\n        id\n        name\n      }\n    }\n  }\n": typeof types.PresetFieldsFragmentDoc,
    "\n  query PresetLibrary {\n    presets {\n      ...PresetFields\n    }\n  }\n": typeof types.PresetLibraryDocument,
    "\n  mutation CreatePreset($input: PresetInput!) {\n    createPreset(input: $input) {\n      ...PresetFields\n    }\n  }\n": typeof types.CreatePresetDocument,
    "\n  mutation UpdatePreset($id: ID!, $input: PresetInput!) {\n    updatePreset(id: $id, input: $input) {\n      ...PresetFields\n    }\n  }\n": typeof types.UpdatePresetDocument,
    "\n  mutation DeletePreset($id: ID!) {\n    deletePreset(id: $id)\n  }\n": typeof types.DeletePresetDocument,
    "\n  mutation EnhancePrompt($prompt: String!, $addQuality: Boolean, $addStyle: Boolean) {\n    enhancePrompt(prompt: $prompt, addQuality: $addQuality, addStyle: $addStyle) {\n      prompt\n      original\n      addedTerms\n    }\n  }\n": typeof types.EnhancePromptDocument,
    "\n  query RandomPrompt {\n    randomPrompts(count: 1)\n  }\n": typeof types.RandomPromptDocument,
    "\n  fragment SessionFields on Session {\n    id\n    name\n    status\n    myRole\n    createdAt\n    lastActivityAt\n    onlineUserIds\n    owner {\n      id\n      displayName\n      email\n    }\n    members {\n      role\n      joinedAt\n      user {\n        id\n        displayName\n        email\n      }\n    }\n  }\n": typeof types.SessionFieldsFragmentDoc,
    "\n  query Sessions {\n    sessions {\n      ...SessionFields\n    }\n  }\n": typeof types.SessionsDocument,
    "\n  query Session($id: ID!) {\n    session(id: $id) {\n      ...SessionFields\n      lastEventId\n    }\n  }\n": typeof types.SessionDocument,
    "\n  mutation CreateSession($name: String!) {\n    createSession(name: $name) {\n      ...SessionFields\n    }\n  }\n": typeof types.CreateSessionDocument,
    "\n  mutation CreateSessionInvite($sessionId: ID!, $role: SessionRole!, $maxUses: Int, $expiresInSeconds: Int) {\n    createSessionInvite(sessionId: $sessionId, role: $role, maxUses: $maxUses, expiresInSeconds: $expiresInSeconds) {\n      token\n      invite {\n        id\n        role\n        expiresAt\n        maxUses\n        uses\n      }\n    }\n  }\n": typeof types.CreateSessionInviteDocument,
    "\n  mutation JoinSession($token: String!) {\n    joinSession(token: $token) {\n      ...SessionFields\n    }\n  }\n": typeof types.JoinSessionDocument,
    "\n  mutation LeaveSession($sessionId: ID!) {\n    leaveSession(sessionId: $sessionId)\n  }\n": typeof types.LeaveSessionDocument,
    "\n  mutation RemoveSessionMember($sessionId: ID!, $userId: ID!) {\n    removeSessionMember(sessionId: $sessionId, userId: $userId) {\n      ...SessionFields\n    }\n  }\n": typeof types.RemoveSessionMemberDocument,
    "\n  subscription SessionEvents($sessionId: ID!, $after: String) {\n    sessionEvents(sessionId: $sessionId, after: $after) {\n      eventId\n      type\n      at\n      sessionId\n      jobId\n      actorId\n      step\n      totalSteps\n      progress\n      queuePosition\n      requeueReason\n      etaSeconds\n      onlineUserIds\n      batchId\n      counts {\n        total\n        completed\n        failed\n        cancelled\n        progress\n        status\n      }\n    }\n  }\n": typeof types.SessionEventsDocument,
    "\n  query TrainingLimits {\n    usage {\n      limits {\n        tier\n        trainingRunsPerDay\n        maxConcurrentTrainingRuns\n        maxTrainingSteps\n        maxDatasetImages\n      }\n    }\n  }\n": typeof types.TrainingLimitsDocument,
    "\n  query Datasets {\n    datasets(first: 50) {\n      edges {\n        node {\n          id\n          name\n          mine\n        }\n      }\n    }\n  }\n": typeof types.DatasetsDocument,
    "\n  query Dataset($id: ID!) {\n    dataset(id: $id) {\n      id\n      name\n      mine\n      images {\n        id\n        caption\n        url\n        width\n        height\n        format\n      }\n    }\n  }\n": typeof types.DatasetDocument,
    "\n  mutation CreateDataset($input: DatasetInput!) {\n    createDataset(input: $input) {\n      id\n      name\n    }\n  }\n": typeof types.CreateDatasetDocument,
    "\n  mutation AddDatasetImages($datasetId: ID!, $images: [DatasetImageInput!]!) {\n    addDatasetImages(datasetId: $datasetId, images: $images) {\n      id\n    }\n  }\n": typeof types.AddDatasetImagesDocument,
    "\n  mutation UpdateDatasetImage($id: ID!, $caption: String!) {\n    updateDatasetImage(id: $id, caption: $caption) {\n      id\n      caption\n    }\n  }\n": typeof types.UpdateDatasetImageDocument,
    "\n  mutation StartTraining($input: TrainingInput!) {\n    startTraining(input: $input) {\n      id\n    }\n  }\n": typeof types.StartTrainingDocument,
    "\n  query TrainingRuns {\n    trainingRuns(first: 20) {\n      edges {\n        node {\n          id\n          loraName\n          status\n          step\n          totalSteps\n          createdAt\n        }\n      }\n    }\n  }\n": typeof types.TrainingRunsDocument,
    "\n  query TrainingRun($id: ID!) {\n    trainingRun(id: $id) {\n      id\n      loraName\n      status\n      step\n      totalSteps\n      checkpointUrl\n      config {\n        steps\n        rank\n        learningRate\n        samplePrompts\n      }\n      samples {\n        step\n        samples {\n          prompt\n          url\n        }\n      }\n      lora {\n        id\n        name\n        version\n        metrics {\n          finalLoss\n          lossCurve {\n            step\n            loss\n          }\n          evaluationCurve {\n            step\n            loss\n          }\n        }\n      }\n    }\n  }\n": typeof types.TrainingRunDocument,
    "\n  subscription TrainingUpdated($runId: ID!, $after: String) {\n    trainingUpdated(runId: $runId, after: $after) {\n      eventId\n      type\n      step\n      totalSteps\n      loss\n      evaluationLoss\n      etaSeconds\n      loraId\n      finalLoss\n      samples {\n        prompt\n        url\n      }\n      error {\n        message\n      }\n    }\n  }\n": typeof types.TrainingUpdatedDocument,
    "\n  mutation CancelTraining($id: ID!) {\n    cancelTraining(id: $id) {\n      id\n      status\n      step\n      totalSteps\n    }\n  }\n": typeof types.CancelTrainingDocument,
    "\n  mutation RemoveDatasetImages($datasetId: ID!, $imageIds: [ID!]!) {\n    removeDatasetImages(datasetId: $datasetId, imageIds: $imageIds)\n  }\n": typeof types.RemoveDatasetImagesDocument,
    "\n  mutation DeleteDataset($id: ID!) {\n    deleteDataset(id: $id)\n  }\n": typeof types.DeleteDatasetDocument,
    "\n  mutation CreateVideo($input: VideoInput!, $idempotencyKey: String) {\n    createVideo(input: $input, idempotencyKey: $idempotencyKey) {\n      ...JobFields\n    }\n  }\n": typeof types.CreateVideoDocument,
    "\n  query VideoPresets {\n    presets(category: VIDEO) {\n      id\n      name\n      template\n      durationSeconds\n      fps\n    }\n  }\n": typeof types.VideoPresetsDocument,
};
const documents: Documents = {
    "\n  query AdminUsers($first: Int!, $offset: Int!) {\n    users(first: $first, offset: $offset) {\n      id\n      email\n      displayName\n      role\n      tier\n      createdAt\n    }\n  }\n": types.AdminUsersDocument,
    "\n  mutation SetUserTier($userId: ID!, $tier: Tier!) {\n    setUserTier(userId: $userId, tier: $tier) {\n      id\n      tier\n    }\n  }\n": types.SetUserTierDocument,
    "\n  mutation SetUserRole($userId: ID!, $role: Role!) {\n    setUserRole(userId: $userId, role: $role) {\n      id\n      role\n    }\n  }\n": types.SetUserRoleDocument,
    "\n  query SystemStats($windowHours: Int, $errorLimit: Int) {\n    systemStats(windowHours: $windowHours, errorLimit: $errorLimit) {\n      startedAt\n      uptimeSeconds\n      windowHours\n      queue {\n        waiting\n        active\n        delayed\n        failed\n      }\n      jobsByStatus {\n        status\n        count\n      }\n      generationTime {\n        completedJobs\n        averageSeconds\n        p50Seconds\n        p95Seconds\n        averageQueueWaitSeconds\n      }\n      workers {\n        id\n        hostname\n        pid\n        activeJobs\n        concurrency\n        executionProvider\n        loadedModels\n        lastSeenAt\n      }\n      recentErrors {\n        at\n        code\n        message\n        source\n        operation\n        jobId\n      }\n      usage {\n        imagesGenerated\n      }\n    }\n  }\n": types.SystemStatsDocument,
    "\n  query AuditEvents($filter: AuditEventFilter, $first: Int, $after: String) {\n    auditEvents(filter: $filter, first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          at\n          kind\n          address\n          userAgent\n          reason\n          details\n          actor {\n            id\n            email\n            displayName\n          }\n          targetUser {\n            id\n            email\n            displayName\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.AuditEventsDocument,
    "\n  fragment AlbumSummary on Album {\n    id\n    name\n    description\n    imageCount\n    viewerRole\n    updatedAt\n    cover {\n      id\n      url\n    }\n  }\n": types.AlbumSummaryFragmentDoc,
    "\n  query Albums($first: Int, $after: String) {\n    albums(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...AlbumSummary\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.AlbumsDocument,
    "\n  query Album($id: ID!, $first: Int, $after: String) {\n    album(id: $id) {\n      ...AlbumSummary\n      owner {\n        id\n        displayName\n        email\n      }\n      members {\n        role\n        sharedAt\n        user {\n          id\n          displayName\n          email\n        }\n      }\n      links {\n        id\n        createdAt\n        expiresAt\n        revokedAt\n      }\n      images(first: $first, after: $after) {\n        edges {\n          cursor\n          position\n          node {\n            ...GalleryImage\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": types.AlbumDocument,
    "\n  query SharedAlbum($token: String!, $first: Int, $after: String) {\n    sharedAlbum(token: $token) {\n      id\n      name\n      ownerName\n      description\n      imageCount\n      images(first: $first, after: $after) {\n        edges {\n          cursor\n          node {\n            id\n            url\n            width\n            height\n            seed\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": types.SharedAlbumDocument,
    "\n  mutation CreateAlbum($name: String!, $description: String) {\n    createAlbum(name: $name, description: $description) {\n      ...AlbumSummary\n    }\n  }\n": types.CreateAlbumDocument,
    "\n  mutation AddImagesToAlbum($albumId: ID!, $imageIds: [ID!]!) {\n    addImagesToAlbum(albumId: $albumId, imageIds: $imageIds) {\n      ...AlbumSummary\n    }\n  }\n": types.AddImagesToAlbumDocument,
    "\n  mutation RemoveImagesFromAlbum($albumId: ID!, $imageIds: [ID!]!) {\n    removeImagesFromAlbum(albumId: $albumId, imageIds: $imageIds) {\n      ...AlbumSummary\n    }\n  }\n": types.RemoveImagesFromAlbumDocument,
    "\n  mutation DeleteAlbum($id: ID!) {\n    deleteAlbum(id: $id)\n  }\n": types.DeleteAlbumDocument,
    "\n  mutation CreateAlbumLink($albumId: ID!, $expiresInHours: Int) {\n    createAlbumLink(albumId: $albumId, expiresInHours: $expiresInHours) {\n      token\n      link {\n        id\n        createdAt\n        expiresAt\n        revokedAt\n      }\n    }\n  }\n": types.CreateAlbumLinkDocument,
    "\n  mutation RevokeAlbumLink($id: ID!) {\n    revokeAlbumLink(id: $id) {\n      id\n      revokedAt\n    }\n  }\n": types.RevokeAlbumLinkDocument,
    "\n  mutation ShareAlbum($albumId: ID!, $userId: ID!, $role: AlbumRole!) {\n    shareAlbum(albumId: $albumId, userId: $userId, role: $role) {\n      id\n      members {\n        role\n        sharedAt\n        user {\n          id\n          displayName\n          email\n        }\n      }\n    }\n  }\n": types.ShareAlbumDocument,
    "\n  mutation UnshareAlbum($albumId: ID!, $userId: ID!) {\n    unshareAlbum(albumId: $albumId, userId: $userId) {\n      id\n      members {\n        role\n        sharedAt\n        user {\n          id\n          displayName\n          email\n        }\n      }\n    }\n  }\n": types.UnshareAlbumDocument,
    "\n  query ApiKeys {\n    apiKeys {\n      id\n      name\n      prefix\n      createdAt\n      lastUsedAt\n      revokedAt\n    }\n  }\n": types.ApiKeysDocument,
    "\n  mutation CreateApiKey($name: String!) {\n    createApiKey(name: $name) {\n      secret\n      apiKey {\n        id\n        name\n        prefix\n        createdAt\n        lastUsedAt\n        revokedAt\n      }\n    }\n  }\n": types.CreateApiKeyDocument,
    "\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) {\n      id\n      revokedAt\n    }\n  }\n": types.RevokeApiKeyDocument,
    "\n  fragment ViewerFields on User {\n    id\n    email\n    displayName\n    role\n    tier\n  }\n": types.ViewerFieldsFragmentDoc,
    "\n  query Me {\n    me {\n      ...ViewerFields\n    }\n  }\n": types.MeDocument,
    "\n  mutation Register($email: String!, $password: String!, $displayName: String) {\n    register(email: $email, password: $password, displayName: $displayName) {\n      token\n      user {\n        ...ViewerFields\n      }\n    }\n  }\n": types.RegisterDocument,
    "\n  mutation Login($email: String!, $password: String!) {\n    login(email: $email, password: $password) {\n      token\n      user {\n        ...ViewerFields\n      }\n    }\n  }\n": types.LoginDocument,
    "\n  query AuthProviders {\n    authProviders {\n      id\n      name\n      startUrl\n    }\n  }\n": types.AuthProvidersDocument,
    "\n  mutation CompleteSignIn($code: String!) {\n    completeSignIn(code: $code) {\n      token\n      user {\n        ...ViewerFields\n      }\n    }\n  }\n": types.CompleteSignInDocument,
    "\n  fragment BatchFields on Batch {\n    id\n    name\n    kind\n    total\n    completed\n    failed\n    cancelled\n    progress\n    status\n    createdAt\n    completedAt\n    owner {\n      id\n    }\n    session {\n      id\n      myRole\n    }\n    axes {\n      rowLabels\n      columnLabels\n    }\n    grid {\n      url\n      width\n      height\n    }\n  }\n": types.BatchFieldsFragmentDoc,
    "\n  fragment BatchJobFields on Job {\n    id\n    status\n    prompt\n    seed\n    steps\n    guidanceScale\n    batchIndex\n    images {\n      id\n      url\n      width\n      height\n    }\n  }\n": types.BatchJobFieldsFragmentDoc,
    "\n  query Batch($id: ID!, $first: Int!, $after: String) {\n    batch(id: $id) {\n      ...BatchFields\n      jobs(first: $first, after: $after) {\n        edges {\n          cursor\n          node {\n            ...BatchJobFields\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": types.BatchDocument,
    "\n  query Batches($first: Int, $after: String) {\n    batches(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          name\n          kind\n          total\n          progress\n          status\n          createdAt\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.BatchesDocument,
    "\n  mutation CreateBatch($input: BatchInput!, $idempotencyKey: String) {\n    createBatch(input: $input, idempotencyKey: $idempotencyKey) {\n      id\n      name\n      total\n      status\n    }\n  }\n": types.CreateBatchDocument,
    "\n  mutation CancelBatch($id: ID!) {\n    cancelBatch(id: $id) {\n      id\n      status\n      cancelled\n      progress\n    }\n  }\n": types.CancelBatchDocument,
    "\n  subscription BatchUpdated($batchId: ID!, $after: String) {\n    batchUpdated(batchId: $batchId, after: $after) {\n      eventId\n      type\n      jobId\n      preview\n      counts {\n        total\n        completed\n        failed\n        cancelled\n        progress\n        status\n      }\n    }\n  }\n": types.BatchUpdatedDocument,
    "\n  fragment JobFields on Job {\n    id\n    status\n    sampler\n    prompt\n    negativePrompt\n    width\n    height\n    steps\n    guidanceScale\n    seed\n    count\n    step\n    totalSteps\n    progress\n    queuePosition\n    etaSeconds\n    waitingFor\n    createdAt\n    startedAt\n    completedAt\n    executionProvider\n    error {\n      code\n      message\n    }\n    owner {\n      id\n      displayName\n      email\n    }\n    session {\n      id\n      name\n    }\n    model {\n      id\n      name\n    }\n    loras {\n      loraId\n      weight\n      lora {\n        id\n        name\n      }\n    }\n    images {\n      id\n      url\n      width\n      height\n      seed\n      index\n      favorited\n    }\n    kind\n    videoFrames\n    videoFps\n    video {\n      url\n      posterUrl\n      mimeType\n      durationSeconds\n      fps\n      frames\n      width\n      height\n      bytes\n    }\n  }\n": types.JobFieldsFragmentDoc,
    "\n  query Job($id: ID!) {\n    job(id: $id) {\n      ...JobFields\n    }\n  }\n": types.JobDocument,
    "\n  query Jobs($first: Int, $after: String, $sessionId: ID, $status: JobStatus) {\n    jobs(first: $first, after: $after, sessionId: $sessionId, status: $status) {\n      edges {\n        cursor\n        node {\n          ...JobFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.JobsDocument,
    "\n  mutation CreateGeneration($input: GenerationInput!, $idempotencyKey: String) {\n    createGeneration(input: $input, idempotencyKey: $idempotencyKey) {\n      ...JobFields\n    }\n  }\n": types.CreateGenerationDocument,
    "\n  mutation CancelJob($id: ID!) {\n    cancelJob(id: $id) {\n      id\n      status\n    }\n  }\n": types.CancelJobDocument,
    "\n  mutation RetryJob($id: ID!) {\n    retryJob(id: $id) {\n      ...JobFields\n    }\n  }\n": types.RetryJobDocument,
    "\n  subscription JobUpdated($jobId: ID!, $after: String) {\n    jobUpdated(jobId: $jobId, after: $after) {\n      eventId\n      type\n      at\n      jobId\n      step\n      totalSteps\n      progress\n      preview\n      imageIds\n      queuePosition\n      requeueReason\n      etaSeconds\n      error {\n        code\n        message\n      }\n    }\n  }\n": types.JobUpdatedDocument,
    "\n  query Usage {\n    usage {\n      tier\n      openJobs\n      imagesToday\n      imagesRemainingToday\n      videoSecondsToday\n      resetsAt\n      limits {\n        tier\n        maxWidth\n        maxHeight\n        maxSteps\n        maxCount\n        maxLoras\n        maxOpenJobs\n        imagesPerDay\n        videoSecondsPerDay\n        maxVideoSeconds\n        maxVideoFps\n      }\n    }\n  }\n": types.UsageDocument,
    "\n  query Models {\n    models {\n      id\n      name\n      description\n      isDefault\n      enabled\n      minTier\n      backend\n      waitingForBackend\n    }\n  }\n": types.ModelsDocument,
    "\n  query Suggestions($query: String!, $limit: Int) {\n    suggestions(query: $query, limit: $limit) {\n      text\n      category\n    }\n  }\n": types.SuggestionsDocument,
    "\n  query Presets($category: PresetCategory) {\n    presets(category: $category) {\n      id\n      name\n      category\n      template\n      negativePrompt\n      width\n      height\n      steps\n      guidanceScale\n      sampler\n      builtIn\n      mine\n      model {\n        id\n        name\n      }\n      loras {\n        loraId\n        weight\n        lora {\n          id\n          name\n        }\n      }\n    }\n  }\n": types.PresetsDocument,
    "\n  query Loras {\n    loras {\n      id\n      name\n      defaultWeight\n      triggerWords\n      usable\n      active\n      minTier\n      baseModel {\n        id\n        name\n      }\n    }\n  }\n": types.LorasDocument,
    "\n  mutation FavoriteImage($imageId: ID!) {\n    favoriteImage(imageId: $imageId) {\n      id\n      favorited\n    }\n  }\n": types.FavoriteImageDocument,
    "\n  mutation UnfavoriteImage($imageId: ID!) {\n    unfavoriteImage(imageId: $imageId) {\n      id\n      favorited\n    }\n  }\n": types.UnfavoriteImageDocument,
    "\n  query Favorites($first: Int, $after: String) {\n    favorites(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...GalleryImage\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.FavoritesDocument,
    "\n  fragment GalleryImage on Image {\n    id\n    url\n    width\n    height\n    seed\n    index\n    favorited\n    createdAt\n    job {\n      id\n      prompt\n    }\n  }\n": types.GalleryImageFragmentDoc,
    "\n  query LoraLibrary {\n    loras {\n      ...LoraRow\n    }\n  }\n": types.LoraLibraryDocument,
    "\n  fragment LoraRow on Lora {\n    id\n    name\n    version\n    triggerWords\n    defaultWeight\n    active\n    usable\n    minTier\n    visibility\n    mine\n    createdAt\n    baseModel {\n      id\n      name\n    }\n  }\n": types.LoraRowFragmentDoc,
    "\n  mutation RegisterLora($input: LoraInput!) {\n    registerLora(input: $input) {\n      ...LoraRow\n    }\n  }\n": types.RegisterLoraDocument,
    "\n  mutation SetLoraActive($id: ID!, $active: Boolean!) {\n    setLoraActive(id: $id, active: $active) {\n      id\n      active\n      usable\n    }\n  }\n": types.SetLoraActiveDocument,
    "\n  mutation SetLoraVisibility($id: ID!, $visibility: LoraVisibility!) {\n    setLoraVisibility(id: $id, visibility: $visibility) {\n      id\n      visibility\n      usable\n    }\n  }\n": types.SetLoraVisibilityDocument,
    "\n  fragment ModelAdminFields on Model {\n    id\n    name\n    description\n    backend\n    minTier\n    enabled\n    isDefault\n    endpoints {\n      url\n      health {\n        state\n        inFlight\n        lastError\n        lastCheckedAt\n      }\n    }\n    workflow\n    remoteModel\n    path\n    hasCredential\n    waitingForBackend\n  }\n": types.ModelAdminFieldsFragmentDoc,
    "\n  query AdminModels {\n    models {\n      ...ModelAdminFields\n    }\n  }\n": types.AdminModelsDocument,
    "\n  mutation RegisterModel($input: ModelInput!) {\n    registerModel(input: $input) {\n      ...ModelAdminFields\n    }\n  }\n": types.RegisterModelDocument,
    "\n  mutation UpdateModel($id: ID!, $input: ModelInput!) {\n    updateModel(id: $id, input: $input) {\n      ...ModelAdminFields\n    }\n  }\n": types.UpdateModelDocument,
    "\n  fragment PresetFields on Preset {\n    id\n    name\n    category\n    template\n    negativePrompt\n    width\n    height\n    steps\n    guidanceScale\n    sampler\n    fps\n    durationSeconds\n    builtIn\n    mine\n    usageCount\n    model {\n      id\n      name\n    }\n    session {\n      id\n      name\n    }\n    loras {\n      loraId\n      weight\n      lora {\n        id\n        name\n      }\n    }\n  }\n": types.PresetFieldsFragmentDoc,
    "\n  query PresetLibrary {\n    presets {\n      ...PresetFields\n    }\n  }\n": types.PresetLibraryDocument,
    "\n  mutation CreatePreset($input: PresetInput!) {\n    createPreset(input: $input) {\n      ...PresetFields\n    }\n  }\n": types.CreatePresetDocument,
    "\n  mutation UpdatePreset($id: ID!, $input: PresetInput!) {\n    updatePreset(id: $id, input: $input) {\n      ...PresetFields\n    }\n  }\n": types.UpdatePresetDocument,
    "\n  mutation DeletePreset($id: ID!) {\n    deletePreset(id: $id)\n  }\n": types.DeletePresetDocument,
    "\n  mutation EnhancePrompt($prompt: String!, $addQuality: Boolean, $addStyle: Boolean) {\n    enhancePrompt(prompt: $prompt, addQuality: $addQuality, addStyle: $addStyle) {\n      prompt\n      original\n      addedTerms\n    }\n  }\n": types.EnhancePromptDocument,
    "\n  query RandomPrompt {\n    randomPrompts(count: 1)\n  }\n": types.RandomPromptDocument,
    "\n  fragment SessionFields on Session {\n    id\n    name\n    status\n    myRole\n    createdAt\n    lastActivityAt\n    onlineUserIds\n    owner {\n      id\n      displayName\n      email\n    }\n    members {\n      role\n      joinedAt\n      user {\n        id\n        displayName\n        email\n      }\n    }\n  }\n": types.SessionFieldsFragmentDoc,
    "\n  query Sessions {\n    sessions {\n      ...SessionFields\n    }\n  }\n": types.SessionsDocument,
    "\n  query Session($id: ID!) {\n    session(id: $id) {\n      ...SessionFields\n      lastEventId\n    }\n  }\n": types.SessionDocument,
    "\n  mutation CreateSession($name: String!) {\n    createSession(name: $name) {\n      ...SessionFields\n    }\n  }\n": types.CreateSessionDocument,
    "\n  mutation CreateSessionInvite($sessionId: ID!, $role: SessionRole!, $maxUses: Int, $expiresInSeconds: Int) {\n    createSessionInvite(sessionId: $sessionId, role: $role, maxUses: $maxUses, expiresInSeconds: $expiresInSeconds) {\n      token\n      invite {\n        id\n        role\n        expiresAt\n        maxUses\n        uses\n      }\n    }\n  }\n": types.CreateSessionInviteDocument,
    "\n  mutation JoinSession($token: String!) {\n    joinSession(token: $token) {\n      ...SessionFields\n    }\n  }\n": types.JoinSessionDocument,
    "\n  mutation LeaveSession($sessionId: ID!) {\n    leaveSession(sessionId: $sessionId)\n  }\n": types.LeaveSessionDocument,
    "\n  mutation RemoveSessionMember($sessionId: ID!, $userId: ID!) {\n    removeSessionMember(sessionId: $sessionId, userId: $userId) {\n      ...SessionFields\n    }\n  }\n": types.RemoveSessionMemberDocument,
    "\n  subscription SessionEvents($sessionId: ID!, $after: String) {\n    sessionEvents(sessionId: $sessionId, after: $after) {\n      eventId\n      type\n      at\n      sessionId\n      jobId\n      actorId\n      step\n      totalSteps\n      progress\n      queuePosition\n      requeueReason\n      etaSeconds\n      onlineUserIds\n      batchId\n      counts {\n        total\n        completed\n        failed\n        cancelled\n        progress\n        status\n      }\n    }\n  }\n": types.SessionEventsDocument,
    "\n  query TrainingLimits {\n    usage {\n      limits {\n        tier\n        trainingRunsPerDay\n        maxConcurrentTrainingRuns\n        maxTrainingSteps\n        maxDatasetImages\n      }\n    }\n  }\n": types.TrainingLimitsDocument,
    "\n  query Datasets {\n    datasets(first: 50) {\n      edges {\n        node {\n          id\n          name\n          mine\n        }\n      }\n    }\n  }\n": types.DatasetsDocument,
    "\n  query Dataset($id: ID!) {\n    dataset(id: $id) {\n      id\n      name\n      mine\n      images {\n        id\n        caption\n        url\n        width\n        height\n        format\n      }\n    }\n  }\n": types.DatasetDocument,
    "\n  mutation CreateDataset($input: DatasetInput!) {\n    createDataset(input: $input) {\n      id\n      name\n    }\n  }\n": types.CreateDatasetDocument,
    "\n  mutation AddDatasetImages($datasetId: ID!, $images: [DatasetImageInput!]!) {\n    addDatasetImages(datasetId: $datasetId, images: $images) {\n      id\n    }\n  }\n": types.AddDatasetImagesDocument,
    "\n  mutation UpdateDatasetImage($id: ID!, $caption: String!) {\n    updateDatasetImage(id: $id, caption: $caption) {\n      id\n      caption\n    }\n  }\n": types.UpdateDatasetImageDocument,
    "\n  mutation StartTraining($input: TrainingInput!) {\n    startTraining(input: $input) {\n      id\n    }\n  }\n": types.StartTrainingDocument,
    "\n  query TrainingRuns {\n    trainingRuns(first: 20) {\n      edges {\n        node {\n          id\n          loraName\n          status\n          step\n          totalSteps\n          createdAt\n        }\n      }\n    }\n  }\n": types.TrainingRunsDocument,
    "\n  query TrainingRun($id: ID!) {\n    trainingRun(id: $id) {\n      id\n      loraName\n      status\n      step\n      totalSteps\n      checkpointUrl\n      config {\n        steps\n        rank\n        learningRate\n        samplePrompts\n      }\n      samples {\n        step\n        samples {\n          prompt\n          url\n        }\n      }\n      lora {\n        id\n        name\n        version\n        metrics {\n          finalLoss\n          lossCurve {\n            step\n            loss\n          }\n          evaluationCurve {\n            step\n            loss\n          }\n        }\n      }\n    }\n  }\n": types.TrainingRunDocument,
    "\n  subscription TrainingUpdated($runId: ID!, $after: String) {\n    trainingUpdated(runId: $runId, after: $after) {\n      eventId\n      type\n      step\n      totalSteps\n      loss\n      evaluationLoss\n      etaSeconds\n      loraId\n      finalLoss\n      samples {\n        prompt\n        url\n      }\n      error {\n        message\n      }\n    }\n  }\n": types.TrainingUpdatedDocument,
    "\n  mutation CancelTraining($id: ID!) {\n    cancelTraining(id: $id) {\n      id\n      status\n      step\n      totalSteps\n    }\n  }\n": types.CancelTrainingDocument,
    "\n  mutation RemoveDatasetImages($datasetId: ID!, $imageIds: [ID!]!) {\n    removeDatasetImages(datasetId: $datasetId, imageIds: $imageIds)\n  }\n": types.RemoveDatasetImagesDocument,
    "\n  mutation DeleteDataset($id: ID!) {\n    deleteDataset(id: $id)\n  }\n": types.DeleteDatasetDocument,
    "\n  mutation CreateVideo($input: VideoInput!, $idempotencyKey: String) {\n    createVideo(input: $input, idempotencyKey: $idempotencyKey) {\n      ...JobFields\n    }\n  }\n": types.CreateVideoDocument,
    "\n  query VideoPresets {\n    presets(category: VIDEO) {\n      id\n      name\n      template\n      durationSeconds\n      fps\n    }\n  }\n": types.VideoPresetsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminUsers($first: Int!, $offset: Int!) {\n    users(first: $first, offset: $offset) {\n      id\n      email\n      displayName\n      role\n      tier\n      createdAt\n    }\n  }\n"): (typeof documents)["\n  query AdminUsers($first: Int!, $offset: Int!) {\n    users(first: $first, offset: $offset) {\n      id\n      email\n      displayName\n      role\n      tier\n      createdAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetUserTier($userId: ID!, $tier: Tier!) {\n    setUserTier(userId: $userId, tier: $tier) {\n      id\n      tier\n    }\n  }\n"): (typeof documents)["\n  mutation SetUserTier($userId: ID!, $tier: Tier!) {\n    setUserTier(userId: $userId, tier: $tier) {\n      id\n      tier\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetUserRole($userId: ID!, $role: Role!) {\n    setUserRole(userId: $userId, role: $role) {\n      id\n      role\n    }\n  }\n"): (typeof documents)["\n  mutation SetUserRole($userId: ID!, $role: Role!) {\n    setUserRole(userId: $userId, role: $role) {\n      id\n      role\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SystemStats($windowHours: Int, $errorLimit: Int) {\n    systemStats(windowHours: $windowHours, errorLimit: $errorLimit) {\n      startedAt\n      uptimeSeconds\n      windowHours\n      queue {\n        waiting\n        active\n        delayed\n        failed\n      }\n      jobsByStatus {\n        status\n        count\n      }\n      generationTime {\n        completedJobs\n        averageSeconds\n        p50Seconds\n        p95Seconds\n        averageQueueWaitSeconds\n      }\n      workers {\n        id\n        hostname\n        pid\n        activeJobs\n        concurrency\n        executionProvider\n        loadedModels\n        lastSeenAt\n      }\n      recentErrors {\n        at\n        code\n        message\n        source\n        operation\n        jobId\n      }\n      usage {\n        imagesGenerated\n      }\n    }\n  }\n"): (typeof documents)["\n  query SystemStats($windowHours: Int, $errorLimit: Int) {\n    systemStats(windowHours: $windowHours, errorLimit: $errorLimit) {\n      startedAt\n      uptimeSeconds\n      windowHours\n      queue {\n        waiting\n        active\n        delayed\n        failed\n      }\n      jobsByStatus {\n        status\n        count\n      }\n      generationTime {\n        completedJobs\n        averageSeconds\n        p50Seconds\n        p95Seconds\n        averageQueueWaitSeconds\n      }\n      workers {\n        id\n        hostname\n        pid\n        activeJobs\n        concurrency\n        executionProvider\n        loadedModels\n        lastSeenAt\n      }\n      recentErrors {\n        at\n        code\n        message\n        source\n        operation\n        jobId\n      }\n      usage {\n        imagesGenerated\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AuditEvents($filter: AuditEventFilter, $first: Int, $after: String) {\n    auditEvents(filter: $filter, first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          at\n          kind\n          address\n          userAgent\n          reason\n          details\n          actor {\n            id\n            email\n            displayName\n          }\n          targetUser {\n            id\n            email\n            displayName\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): (typeof documents)["\n  query AuditEvents($filter: AuditEventFilter, $first: Int, $after: String) {\n    auditEvents(filter: $filter, first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          at\n          kind\n          address\n          userAgent\n          reason\n          details\n          actor {\n            id\n            email\n            displayName\n          }\n          targetUser {\n            id\n            email\n            displayName\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AlbumSummary on Album {\n    id\n    name\n    description\n    imageCount\n    viewerRole\n    updatedAt\n    cover {\n      id\n      url\n    }\n  }\n"): (typeof documents)["\n  fragment AlbumSummary on Album {\n    id\n    name\n    description\n    imageCount\n    viewerRole\n    updatedAt\n    cover {\n      id\n      url\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Albums($first: Int, $after: String) {\n    albums(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...AlbumSummary\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): (typeof documents)["\n  query Albums($first: Int, $after: String) {\n    albums(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...AlbumSummary\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Album($id: ID!, $first: Int, $after: String) {\n    album(id: $id) {\n      ...AlbumSummary\n      owner {\n        id\n        displayName\n        email\n      }\n      members {\n        role\n        sharedAt\n        user {\n          id\n          displayName\n          email\n        }\n      }\n      links {\n        id\n        createdAt\n        expiresAt\n        revokedAt\n      }\n      images(first: $first, after: $after) {\n        edges {\n          cursor\n          position\n          node {\n            ...GalleryImage\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Album($id: ID!, $first: Int, $after: String) {\n    album(id: $id) {\n      ...AlbumSummary\n      owner {\n        id\n        displayName\n        email\n      }\n      members {\n        role\n        sharedAt\n        user {\n          id\n          displayName\n          email\n        }\n      }\n      links {\n        id\n        createdAt\n        expiresAt\n        revokedAt\n      }\n      images(first: $first, after: $after) {\n        edges {\n          cursor\n          position\n          node {\n            ...GalleryImage\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SharedAlbum($token: String!, $first: Int, $after: String) {\n    sharedAlbum(token: $token) {\n      id\n      name\n      ownerName\n      description\n      imageCount\n      images(first: $first, after: $after) {\n        edges {\n          cursor\n          node {\n            id\n            url\n            width\n            height\n            seed\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query SharedAlbum($token: String!, $first: Int, $after: String) {\n    sharedAlbum(token: $token) {\n      id\n      name\n      ownerName\n      description\n      imageCount\n      images(first: $first, after: $after) {\n        edges {\n          cursor\n          node {\n            id\n            url\n            width\n            height\n            seed\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateAlbum($name: String!, $description: String) {\n    createAlbum(name: $name, description: $description) {\n      ...AlbumSummary\n    }\n  }\n"): (typeof documents)["\n  mutation CreateAlbum($name: String!, $description: String) {\n    createAlbum(name: $name, description: $description) {\n      ...AlbumSummary\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AddImagesToAlbum($albumId: ID!, $imageIds: [ID!]!) {\n    addImagesToAlbum(albumId: $albumId, imageIds: $imageIds) {\n      ...AlbumSummary\n    }\n  }\n"): (typeof documents)["\n  mutation AddImagesToAlbum($albumId: ID!, $imageIds: [ID!]!) {\n    addImagesToAlbum(albumId: $albumId, imageIds: $imageIds) {\n      ...AlbumSummary\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemoveImagesFromAlbum($albumId: ID!, $imageIds: [ID!]!) {\n    removeImagesFromAlbum(albumId: $albumId, imageIds: $imageIds) {\n      ...AlbumSummary\n    }\n  }\n"): (typeof documents)["\n  mutation RemoveImagesFromAlbum($albumId: ID!, $imageIds: [ID!]!) {\n    removeImagesFromAlbum(albumId: $albumId, imageIds: $imageIds) {\n      ...AlbumSummary\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteAlbum($id: ID!) {\n    deleteAlbum(id: $id)\n  }\n"): (typeof documents)["\n  mutation DeleteAlbum($id: ID!) {\n    deleteAlbum(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateAlbumLink($albumId: ID!, $expiresInHours: Int) {\n    createAlbumLink(albumId: $albumId, expiresInHours: $expiresInHours) {\n      token\n      link {\n        id\n        createdAt\n        expiresAt\n        revokedAt\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateAlbumLink($albumId: ID!, $expiresInHours: Int) {\n    createAlbumLink(albumId: $albumId, expiresInHours: $expiresInHours) {\n      token\n      link {\n        id\n        createdAt\n        expiresAt\n        revokedAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeAlbumLink($id: ID!) {\n    revokeAlbumLink(id: $id) {\n      id\n      revokedAt\n    }\n  }\n"): (typeof documents)["\n  mutation RevokeAlbumLink($id: ID!) {\n    revokeAlbumLink(id: $id) {\n      id\n      revokedAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ShareAlbum($albumId: ID!, $userId: ID!, $role: AlbumRole!) {\n    shareAlbum(albumId: $albumId, userId: $userId, role: $role) {\n      id\n      members {\n        role\n        sharedAt\n        user {\n          id\n          displayName\n          email\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation ShareAlbum($albumId: ID!, $userId: ID!, $role: AlbumRole!) {\n    shareAlbum(albumId: $albumId, userId: $userId, role: $role) {\n      id\n      members {\n        role\n        sharedAt\n        user {\n          id\n          displayName\n          email\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UnshareAlbum($albumId: ID!, $userId: ID!) {\n    unshareAlbum(albumId: $albumId, userId: $userId) {\n      id\n      members {\n        role\n        sharedAt\n        user {\n          id\n          displayName\n          email\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation UnshareAlbum($albumId: ID!, $userId: ID!) {\n    unshareAlbum(albumId: $albumId, userId: $userId) {\n      id\n      members {\n        role\n        sharedAt\n        user {\n          id\n          displayName\n          email\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ApiKeys {\n    apiKeys {\n      id\n      name\n      prefix\n      createdAt\n      lastUsedAt\n      revokedAt\n    }\n  }\n"): (typeof documents)["\n  query ApiKeys {\n    apiKeys {\n      id\n      name\n      prefix\n      createdAt\n      lastUsedAt\n      revokedAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateApiKey($name: String!) {\n    createApiKey(name: $name) {\n      secret\n      apiKey {\n        id\n        name\n        prefix\n        createdAt\n        lastUsedAt\n        revokedAt\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateApiKey($name: String!) {\n    createApiKey(name: $name) {\n      secret\n      apiKey {\n        id\n        name\n        prefix\n        createdAt\n        lastUsedAt\n        revokedAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) {\n      id\n      revokedAt\n    }\n  }\n"): (typeof documents)["\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) {\n      id\n      revokedAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ViewerFields on User {\n    id\n    email\n    displayName\n    role\n    tier\n  }\n"): (typeof documents)["\n  fragment ViewerFields on User {\n    id\n    email\n    displayName\n    role\n    tier\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Me {\n    me {\n      ...ViewerFields\n    }\n  }\n"): (typeof documents)["\n  query Me {\n    me {\n      ...ViewerFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Register($email: String!, $password: String!, $displayName: String) {\n    register(email: $email, password: $password, displayName: $displayName) {\n      token\n      user {\n        ...ViewerFields\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation Register($email: String!, $password: String!, $displayName: String) {\n    register(email: $email, password: $password, displayName: $displayName) {\n      token\n      user {\n        ...ViewerFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Login($email: String!, $password: String!) {\n    login(email: $email, password: $password) {\n      token\n      user {\n        ...ViewerFields\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation Login($email: String!, $password: String!) {\n    login(email: $email, password: $password) {\n      token\n      user {\n        ...ViewerFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AuthProviders {\n    authProviders {\n      id\n      name\n      startUrl\n    }\n  }\n"): (typeof documents)["\n  query AuthProviders {\n    authProviders {\n      id\n      name\n      startUrl\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CompleteSignIn($code: String!) {\n    completeSignIn(code: $code) {\n      token\n      user {\n        ...ViewerFields\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CompleteSignIn($code: String!) {\n    completeSignIn(code: $code) {\n      token\n      user {\n        ...ViewerFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment BatchFields on Batch {\n    id\n    name\n    kind\n    total\n    completed\n    failed\n    cancelled\n    progress\n    status\n    createdAt\n    completedAt\n    owner {\n      id\n    }\n    session {\n      id\n      myRole\n    }\n    axes {\n      rowLabels\n      columnLabels\n    }\n    grid {\n      url\n      width\n      height\n    }\n  }\n"): (typeof documents)["\n  fragment BatchFields on Batch {\n    id\n    name\n    kind\n    total\n    completed\n    failed\n    cancelled\n    progress\n    status\n    createdAt\n    completedAt\n    owner {\n      id\n    }\n    session {\n      id\n      myRole\n    }\n    axes {\n      rowLabels\n      columnLabels\n    }\n    grid {\n      url\n      width\n      height\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment BatchJobFields on Job {\n    id\n    status\n    prompt\n    seed\n    steps\n    guidanceScale\n    batchIndex\n    images {\n      id\n      url\n      width\n      height\n    }\n  }\n"): (typeof documents)["\n  fragment BatchJobFields on Job {\n    id\n    status\n    prompt\n    seed\n    steps\n    guidanceScale\n    batchIndex\n    images {\n      id\n      url\n      width\n      height\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Batch($id: ID!, $first: Int!, $after: String) {\n    batch(id: $id) {\n      ...BatchFields\n      jobs(first: $first, after: $after) {\n        edges {\n          cursor\n          node {\n            ...BatchJobFields\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Batch($id: ID!, $first: Int!, $after: String) {\n    batch(id: $id) {\n      ...BatchFields\n      jobs(first: $first, after: $after) {\n        edges {\n          cursor\n          node {\n            ...BatchJobFields\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Batches($first: Int, $after: String) {\n    batches(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          name\n          kind\n          total\n          progress\n          status\n          createdAt\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): (typeof documents)["\n  query Batches($first: Int, $after: String) {\n    batches(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          name\n          kind\n          total\n          progress\n          status\n          createdAt\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateBatch($input: BatchInput!, $idempotencyKey: String) {\n    createBatch(input: $input, idempotencyKey: $idempotencyKey) {\n      id\n      name\n      total\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation CreateBatch($input: BatchInput!, $idempotencyKey: String) {\n    createBatch(input: $input, idempotencyKey: $idempotencyKey) {\n      id\n      name\n      total\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelBatch($id: ID!) {\n    cancelBatch(id: $id) {\n      id\n      status\n      cancelled\n      progress\n    }\n  }\n"): (typeof documents)["\n  mutation CancelBatch($id: ID!) {\n    cancelBatch(id: $id) {\n      id\n      status\n      cancelled\n      progress\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription BatchUpdated($batchId: ID!, $after: String) {\n    batchUpdated(batchId: $batchId, after: $after) {\n      eventId\n      type\n      jobId\n      preview\n      counts {\n        total\n        completed\n        failed\n        cancelled\n        progress\n        status\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription BatchUpdated($batchId: ID!, $after: String) {\n    batchUpdated(batchId: $batchId, after: $after) {\n      eventId\n      type\n      jobId\n      preview\n      counts {\n        total\n        completed\n        failed\n        cancelled\n        progress\n        status\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment JobFields on Job {\n    id\n    status\n    sampler\n    prompt\n    negativePrompt\n    width\n    height\n    steps\n    guidanceScale\n    seed\n    count\n    step\n    totalSteps\n    progress\n    queuePosition\n    etaSeconds\n    waitingFor\n    createdAt\n    startedAt\n    completedAt\n    executionProvider\n    error {\n      code\n      message\n    }\n    owner {\n      id\n      displayName\n      email\n    }\n    session {\n      id\n      name\n    }\n    model {\n      id\n      name\n    }\n    loras {\n      loraId\n      weight\n      lora {\n        id\n        name\n      }\n    }\n    images {\n      id\n      url\n      width\n      height\n      seed\n      index\n      favorited\n    }\n    kind\n    videoFrames\n    videoFps\n    video {\n      url\n      posterUrl\n      mimeType\n      durationSeconds\n      fps\n      frames\n      width\n      height\n      bytes\n    }\n  }\n"): (typeof documents)["\n  fragment JobFields on Job {\n    id\n    status\n    sampler\n    prompt\n    negativePrompt\n    width\n    height\n    steps\n    guidanceScale\n    seed\n    count\n    step\n    totalSteps\n    progress\n    queuePosition\n    etaSeconds\n    waitingFor\n    createdAt\n    startedAt\n    completedAt\n    executionProvider\n    error {\n      code\n      message\n    }\n    owner {\n      id\n      displayName\n      email\n    }\n    session {\n      id\n      name\n    }\n    model {\n      id\n      name\n    }\n    loras {\n      loraId\n      weight\n      lora {\n        id\n        name\n      }\n    }\n    images {\n      id\n      url\n      width\n      height\n      seed\n      index\n      favorited\n    }\n    kind\n    videoFrames\n    videoFps\n    video {\n      url\n      posterUrl\n      mimeType\n      durationSeconds\n      fps\n      frames\n      width\n      height\n      bytes\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Job($id: ID!) {\n    job(id: $id) {\n      ...JobFields\n    }\n  }\n"): (typeof documents)["\n  query Job($id: ID!) {\n    job(id: $id) {\n      ...JobFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Jobs($first: Int, $after: String, $sessionId: ID, $status: JobStatus) {\n    jobs(first: $first, after: $after, sessionId: $sessionId, status: $status) {\n      edges {\n        cursor\n        node {\n          ...JobFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): (typeof documents)["\n  query Jobs($first: Int, $after: String, $sessionId: ID, $status: JobStatus) {\n    jobs(first: $first, after: $after, sessionId: $sessionId, status: $status) {\n      edges {\n        cursor\n        node {\n          ...JobFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateGeneration($input: GenerationInput!, $idempotencyKey: String) {\n    createGeneration(input: $input, idempotencyKey: $idempotencyKey) {\n      ...JobFields\n    }\n  }\n"): (typeof documents)["\n  mutation CreateGeneration($input: GenerationInput!, $idempotencyKey: String) {\n    createGeneration(input: $input, idempotencyKey: $idempotencyKey) {\n      ...JobFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelJob($id: ID!) {\n    cancelJob(id: $id) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation CancelJob($id: ID!) {\n    cancelJob(id: $id) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RetryJob($id: ID!) {\n    retryJob(id: $id) {\n      ...JobFields\n    }\n  }\n"): (typeof documents)["\n  mutation RetryJob($id: ID!) {\n    retryJob(id: $id) {\n      ...JobFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription JobUpdated($jobId: ID!, $after: String) {\n    jobUpdated(jobId: $jobId, after: $after) {\n      eventId\n      type\n      at\n      jobId\n      step\n      totalSteps\n      progress\n      preview\n      imageIds\n      queuePosition\n      requeueReason\n      etaSeconds\n      error {\n        code\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription JobUpdated($jobId: ID!, $after: String) {\n    jobUpdated(jobId: $jobId, after: $after) {\n      eventId\n      type\n      at\n      jobId\n      step\n      totalSteps\n      progress\n      preview\n      imageIds\n      queuePosition\n      requeueReason\n      etaSeconds\n      error {\n        code\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Usage {\n    usage {\n      tier\n      openJobs\n      imagesToday\n      imagesRemainingToday\n      videoSecondsToday\n      resetsAt\n      limits {\n        tier\n        maxWidth\n        maxHeight\n        maxSteps\n        maxCount\n        maxLoras\n        maxOpenJobs\n        imagesPerDay\n        videoSecondsPerDay\n        maxVideoSeconds\n        maxVideoFps\n      }\n    }\n  }\n"): (typeof documents)["\n  query Usage {\n    usage {\n      tier\n      openJobs\n      imagesToday\n      imagesRemainingToday\n      videoSecondsToday\n      resetsAt\n      limits {\n        tier\n        maxWidth\n        maxHeight\n        maxSteps\n        maxCount\n        maxLoras\n        maxOpenJobs\n        imagesPerDay\n        videoSecondsPerDay\n        maxVideoSeconds\n        maxVideoFps\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Models {\n    models {\n      id\n      name\n      description\n      isDefault\n      enabled\n      minTier\n      backend\n      waitingForBackend\n    }\n  }\n"): (typeof documents)["\n  query Models {\n    models {\n      id\n      name\n      description\n      isDefault\n      enabled\n      minTier\n      backend\n      waitingForBackend\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Suggestions($query: String!, $limit: Int) {\n    suggestions(query: $query, limit: $limit) {\n      text\n      category\n    }\n  }\n"): (typeof documents)["\n  query Suggestions($query: String!, $limit: Int) {\n    suggestions(query: $query, limit: $limit) {\n      text\n      category\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Presets($category: PresetCategory) {\n    presets(category: $category) {\n      id\n      name\n      category\n      template\n      negativePrompt\n      width\n      height\n      steps\n      guidanceScale\n      sampler\n      builtIn\n      mine\n      model {\n        id\n        name\n      }\n      loras {\n        loraId\n        weight\n        lora {\n          id\n          name\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Presets($category: PresetCategory) {\n    presets(category: $category) {\n      id\n      name\n      category\n      template\n      negativePrompt\n      width\n      height\n      steps\n      guidanceScale\n      sampler\n      builtIn\n      mine\n      model {\n        id\n        name\n      }\n      loras {\n        loraId\n        weight\n        lora {\n          id\n          name\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Loras {\n    loras {\n      id\n      name\n      defaultWeight\n      triggerWords\n      usable\n      active\n      minTier\n      baseModel {\n        id\n        name\n      }\n    }\n  }\n"): (typeof documents)["\n  query Loras {\n    loras {\n      id\n      name\n      defaultWeight\n      triggerWords\n      usable\n      active\n      minTier\n      baseModel {\n        id\n        name\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation FavoriteImage($imageId: ID!) {\n    favoriteImage(imageId: $imageId) {\n      id\n      favorited\n    }\n  }\n"): (typeof documents)["\n  mutation FavoriteImage($imageId: ID!) {\n    favoriteImage(imageId: $imageId) {\n      id\n      favorited\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UnfavoriteImage($imageId: ID!) {\n    unfavoriteImage(imageId: $imageId) {\n      id\n      favorited\n    }\n  }\n"): (typeof documents)["\n  mutation UnfavoriteImage($imageId: ID!) {\n    unfavoriteImage(imageId: $imageId) {\n      id\n      favorited\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Favorites($first: Int, $after: String) {\n    favorites(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...GalleryImage\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): (typeof documents)["\n  query Favorites($first: Int, $after: String) {\n    favorites(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...GalleryImage\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment GalleryImage on Image {\n    id\n    url\n    width\n    height\n    seed\n    index\n    favorited\n    createdAt\n    job {\n      id\n      prompt\n    }\n  }\n"): (typeof documents)["\n  fragment GalleryImage on Image {\n    id\n    url\n    width\n    height\n    seed\n    index\n    favorited\n    createdAt\n    job {\n      id\n      prompt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query LoraLibrary {\n    loras {\n      ...LoraRow\n    }\n  }\n"): (typeof documents)["\n  query LoraLibrary {\n    loras {\n      ...LoraRow\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment LoraRow on Lora {\n    id\n    name\n    version\n    triggerWords\n    defaultWeight\n    active\n    usable\n    minTier\n    visibility\n    mine\n    createdAt\n    baseModel {\n      id\n      name\n    }\n  }\n"): (typeof documents)["\n  fragment LoraRow on Lora {\n    id\n    name\n    version\n    triggerWords\n    defaultWeight\n    active\n    usable\n    minTier\n    visibility\n    mine\n    createdAt\n    baseModel {\n      id\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RegisterLora($input: LoraInput!) {\n    registerLora(input: $input) {\n      ...LoraRow\n    }\n  }\n"): (typeof documents)["\n  mutation RegisterLora($input: LoraInput!) {\n    registerLora(input: $input) {\n      ...LoraRow\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetLoraActive($id: ID!, $active: Boolean!) {\n    setLoraActive(id: $id, active: $active) {\n      id\n      active\n      usable\n    }\n  }\n"): (typeof documents)["\n  mutation SetLoraActive($id: ID!, $active: Boolean!) {\n    setLoraActive(id: $id, active: $active) {\n      id\n      active\n      usable\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetLoraVisibility($id: ID!, $visibility: LoraVisibility!) {\n    setLoraVisibility(id: $id, visibility: $visibility) {\n      id\n      visibility\n      usable\n    }\n  }\n"): (typeof documents)["\n  mutation SetLoraVisibility($id: ID!, $visibility: LoraVisibility!) {\n    setLoraVisibility(id: $id, visibility: $visibility) {\n      id\n      visibility\n      usable\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ModelAdminFields on Model {\n    id\n    name\n    description\n    backend\n    minTier\n    enabled\n    isDefault\n    endpoints {\n      url\n      health {\n        state\n        inFlight\n        lastError\n        lastCheckedAt\n      }\n    }\n    workflow\n    remoteModel\n    path\n    hasCredential\n    waitingForBackend\n  }\n"): (typeof documents)["\n  fragment ModelAdminFields on Model {\n    id\n    name\n    description\n    backend\n    minTier\n    enabled\n    isDefault\n    endpoints {\n      url\n      health {\n        state\n        inFlight\n        lastError\n        lastCheckedAt\n      }\n    }\n    workflow\n    remoteModel\n    path\n    hasCredential\n    waitingForBackend\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminModels {\n    models {\n      ...ModelAdminFields\n    }\n  }\n"): (typeof documents)["\n  query AdminModels {\n    models {\n      ...ModelAdminFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RegisterModel($input: ModelInput!) {\n    registerModel(input: $input) {\n      ...ModelAdminFields\n    }\n  }\n"): (typeof documents)["\n  mutation RegisterModel($input: ModelInput!) {\n    registerModel(input: $input) {\n      ...ModelAdminFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateModel($id: ID!, $input: ModelInput!) {\n    updateModel(id: $id, input: $input) {\n      ...ModelAdminFields\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateModel($id: ID!, $input: ModelInput!) {\n    updateModel(id: $id, input: $input) {\n      ...ModelAdminFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment PresetFields on Preset {\n    id\n    name\n    category\n    template\n    negativePrompt\n    width\n    height\n    steps\n    guidanceScale\n    sampler\n    fps\n    durationSeconds\n    builtIn\n    mine\n    usageCount\n    model {\n      id\n      name\n    }\n    session {\n      id\n      name\n    }\n    loras {\n      loraId\n      weight\n      lora {\n        id\n        name\n      }\n    }\n  }\n"): (typeof documents)["\n  fragment PresetFields on Preset {\n    id\n    name\n    category\n    template\n    negativePrompt\n    width\n    height\n    steps\n    guidanceScale\n    sampler\n    fps\n    durationSeconds\n    builtIn\n    mine\n    usageCount\n    model {\n      id\n      name\n    }\n    session {\n      id\n      name\n    }\n    loras {\n      loraId\n      weight\n      lora {\n        id\n        name\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PresetLibrary {\n    presets {\n      ...PresetFields\n    }\n  }\n"): (typeof documents)["\n  query PresetLibrary {\n    presets {\n      ...PresetFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreatePreset($input: PresetInput!) {\n    createPreset(input: $input) {\n      ...PresetFields\n    }\n  }\n"): (typeof documents)["\n  mutation CreatePreset($input: PresetInput!) {\n    createPreset(input: $input) {\n      ...PresetFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdatePreset($id: ID!, $input: PresetInput!) {\n    updatePreset(id: $id, input: $input) {\n      ...PresetFields\n    }\n  }\n"): (typeof documents)["\n  mutation UpdatePreset($id: ID!, $input: PresetInput!) {\n    updatePreset(id: $id, input: $input) {\n      ...PresetFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeletePreset($id: ID!) {\n    deletePreset(id: $id)\n  }\n"): (typeof documents)["\n  mutation DeletePreset($id: ID!) {\n    deletePreset(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation EnhancePrompt($prompt: String!, $addQuality: Boolean, $addStyle: Boolean) {\n    enhancePrompt(prompt: $prompt, addQuality: $addQuality, addStyle: $addStyle) {\n      prompt\n      original\n      addedTerms\n    }\n  }\n"): (typeof documents)["\n  mutation EnhancePrompt($prompt: String!, $addQuality: Boolean, $addStyle: Boolean) {\n    enhancePrompt(prompt: $prompt, addQuality: $addQuality, addStyle: $addStyle) {\n      prompt\n      original\n      addedTerms\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RandomPrompt {\n    randomPrompts(count: 1)\n  }\n"): (typeof documents)["\n  query RandomPrompt {\n    randomPrompts(count: 1)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment SessionFields on Session {\n    id\n    name\n    status\n    myRole\n    createdAt\n    lastActivityAt\n    onlineUserIds\n    owner {\n      id\n      displayName\n      email\n    }\n    members {\n      role\n      joinedAt\n      user {\n        id\n        displayName\n        email\n      }\n    }\n  }\n"): (typeof documents)["\n  fragment SessionFields on Session {\n    id\n    name\n    status\n    myRole\n    createdAt\n    lastActivityAt\n    onlineUserIds\n    owner {\n      id\n      displayName\n      email\n    }\n    members {\n      role\n      joinedAt\n      user {\n        id\n        displayName\n        email\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Sessions {\n    sessions {\n      ...SessionFields\n    }\n  }\n"): (typeof documents)["\n  query Sessions {\n    sessions {\n      ...SessionFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Session($id: ID!) {\n    session(id: $id) {\n      ...SessionFields\n      lastEventId\n    }\n  }\n"): (typeof documents)["\n  query Session($id: ID!) {\n    session(id: $id) {\n      ...SessionFields\n      lastEventId\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateSession($name: String!) {\n    createSession(name: $name) {\n      ...SessionFields\n    }\n  }\n"): (typeof documents)["\n  mutation CreateSession($name: String!) {\n    createSession(name: $name) {\n      ...SessionFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateSessionInvite($sessionId: ID!, $role: SessionRole!, $maxUses: Int, $expiresInSeconds: Int) {\n    createSessionInvite(sessionId: $sessionId, role: $role, maxUses: $maxUses, expiresInSeconds: $expiresInSeconds) {\n      token\n      invite {\n        id\n        role\n        expiresAt\n        maxUses\n        uses\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateSessionInvite($sessionId: ID!, $role: SessionRole!, $maxUses: Int, $expiresInSeconds: Int) {\n    createSessionInvite(sessionId: $sessionId, role: $role, maxUses: $maxUses, expiresInSeconds: $expiresInSeconds) {\n      token\n      invite {\n        id\n        role\n        expiresAt\n        maxUses\n        uses\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation JoinSession($token: String!) {\n    joinSession(token: $token) {\n      ...SessionFields\n    }\n  }\n"): (typeof documents)["\n  mutation JoinSession($token: String!) {\n    joinSession(token: $token) {\n      ...SessionFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation LeaveSession($sessionId: ID!) {\n    leaveSession(sessionId: $sessionId)\n  }\n"): (typeof documents)["\n  mutation LeaveSession($sessionId: ID!) {\n    leaveSession(sessionId: $sessionId)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemoveSessionMember($sessionId: ID!, $userId: ID!) {\n    removeSessionMember(sessionId: $sessionId, userId: $userId) {\n      ...SessionFields\n    }\n  }\n"): (typeof documents)["\n  mutation RemoveSessionMember($sessionId: ID!, $userId: ID!) {\n    removeSessionMember(sessionId: $sessionId, userId: $userId) {\n      ...SessionFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription SessionEvents($sessionId: ID!, $after: String) {\n    sessionEvents(sessionId: $sessionId, after: $after) {\n      eventId\n      type\n      at\n      sessionId\n      jobId\n      actorId\n      step\n      totalSteps\n      progress\n      queuePosition\n      requeueReason\n      etaSeconds\n      onlineUserIds\n      batchId\n      counts {\n        total\n        completed\n        failed\n        cancelled\n        progress\n        status\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription SessionEvents($sessionId: ID!, $after: String) {\n    sessionEvents(sessionId: $sessionId, after: $after) {\n      eventId\n      type\n      at\n      sessionId\n      jobId\n      actorId\n      step\n      totalSteps\n      progress\n      queuePosition\n      requeueReason\n      etaSeconds\n      onlineUserIds\n      batchId\n      counts {\n        total\n        completed\n        failed\n        cancelled\n        progress\n        status\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TrainingLimits {\n    usage {\n      limits {\n        tier\n        trainingRunsPerDay\n        maxConcurrentTrainingRuns\n        maxTrainingSteps\n        maxDatasetImages\n      }\n    }\n  }\n"): (typeof documents)["\n  query TrainingLimits {\n    usage {\n      limits {\n        tier\n        trainingRunsPerDay\n        maxConcurrentTrainingRuns\n        maxTrainingSteps\n        maxDatasetImages\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Datasets {\n    datasets(first: 50) {\n      edges {\n        node {\n          id\n          name\n          mine\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Datasets {\n    datasets(first: 50) {\n      edges {\n        node {\n          id\n          name\n          mine\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Dataset($id: ID!) {\n    dataset(id: $id) {\n      id\n      name\n      mine\n      images {\n        id\n        caption\n        url\n        width\n        height\n        format\n      }\n    }\n  }\n"): (typeof documents)["\n  query Dataset($id: ID!) {\n    dataset(id: $id) {\n      id\n      name\n      mine\n      images {\n        id\n        caption\n        url\n        width\n        height\n        format\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateDataset($input: DatasetInput!) {\n    createDataset(input: $input) {\n      id\n      name\n    }\n  }\n"): (typeof documents)["\n  mutation CreateDataset($input: DatasetInput!) {\n    createDataset(input: $input) {\n      id\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AddDatasetImages($datasetId: ID!, $images: [DatasetImageInput!]!) {\n    addDatasetImages(datasetId: $datasetId, images: $images) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation AddDatasetImages($datasetId: ID!, $images: [DatasetImageInput!]!) {\n    addDatasetImages(datasetId: $datasetId, images: $images) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateDatasetImage($id: ID!, $caption: String!) {\n    updateDatasetImage(id: $id, caption: $caption) {\n      id\n      caption\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateDatasetImage($id: ID!, $caption: String!) {\n    updateDatasetImage(id: $id, caption: $caption) {\n      id\n      caption\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation StartTraining($input: TrainingInput!) {\n    startTraining(input: $input) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation StartTraining($input: TrainingInput!) {\n    startTraining(input: $input) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TrainingRuns {\n    trainingRuns(first: 20) {\n      edges {\n        node {\n          id\n          loraName\n          status\n          step\n          totalSteps\n          createdAt\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query TrainingRuns {\n    trainingRuns(first: 20) {\n      edges {\n        node {\n          id\n          loraName\n          status\n          step\n          totalSteps\n          createdAt\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TrainingRun($id: ID!) {\n    trainingRun(id: $id) {\n      id\n      loraName\n      status\n      step\n      totalSteps\n      checkpointUrl\n      config {\n        steps\n        rank\n        learningRate\n        samplePrompts\n      }\n      samples {\n        step\n        samples {\n          prompt\n          url\n        }\n      }\n      lora {\n        id\n        name\n        version\n        metrics {\n          finalLoss\n          lossCurve {\n            step\n            loss\n          }\n          evaluationCurve {\n            step\n            loss\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query TrainingRun($id: ID!) {\n    trainingRun(id: $id) {\n      id\n      loraName\n      status\n      step\n      totalSteps\n      checkpointUrl\n      config {\n        steps\n        rank\n        learningRate\n        samplePrompts\n      }\n      samples {\n        step\n        samples {\n          prompt\n          url\n        }\n      }\n      lora {\n        id\n        name\n        version\n        metrics {\n          finalLoss\n          lossCurve {\n            step\n            loss\n          }\n          evaluationCurve {\n            step\n            loss\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription TrainingUpdated($runId: ID!, $after: String) {\n    trainingUpdated(runId: $runId, after: $after) {\n      eventId\n      type\n      step\n      totalSteps\n      loss\n      evaluationLoss\n      etaSeconds\n      loraId\n      finalLoss\n      samples {\n        prompt\n        url\n      }\n      error {\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription TrainingUpdated($runId: ID!, $after: String) {\n    trainingUpdated(runId: $runId, after: $after) {\n      eventId\n      type\n      step\n      totalSteps\n      loss\n      evaluationLoss\n      etaSeconds\n      loraId\n      finalLoss\n      samples {\n        prompt\n        url\n      }\n      error {\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelTraining($id: ID!) {\n    cancelTraining(id: $id) {\n      id\n      status\n      step\n      totalSteps\n    }\n  }\n"): (typeof documents)["\n  mutation CancelTraining($id: ID!) {\n    cancelTraining(id: $id) {\n      id\n      status\n      step\n      totalSteps\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemoveDatasetImages($datasetId: ID!, $imageIds: [ID!]!) {\n    removeDatasetImages(datasetId: $datasetId, imageIds: $imageIds)\n  }\n"): (typeof documents)["\n  mutation RemoveDatasetImages($datasetId: ID!, $imageIds: [ID!]!) {\n    removeDatasetImages(datasetId: $datasetId, imageIds: $imageIds)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteDataset($id: ID!) {\n    deleteDataset(id: $id)\n  }\n"): (typeof documents)["\n  mutation DeleteDataset($id: ID!) {\n    deleteDataset(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateVideo($input: VideoInput!, $idempotencyKey: String) {\n    createVideo(input: $input, idempotencyKey: $idempotencyKey) {\n      ...JobFields\n    }\n  }\n"): (typeof documents)["\n  mutation CreateVideo($input: VideoInput!, $idempotencyKey: String) {\n    createVideo(input: $input, idempotencyKey: $idempotencyKey) {\n      ...JobFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query VideoPresets {\n    presets(category: VIDEO) {\n      id\n      name\n      template\n      durationSeconds\n      fps\n    }\n  }\n"): (typeof documents)["\n  query VideoPresets {\n    presets(category: VIDEO) {\n      id\n      name\n      template\n      durationSeconds\n      fps\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;