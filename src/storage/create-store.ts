import path from 'node:path';
import type { StorageConfig } from '../config';
import type { ArtifactStore } from './artifact-store';
import { ArtifactFileCache } from './artifact-file-cache';
import { LocalArtifactStore } from './local-store';
import { S3ArtifactStore } from './s3-store';

/** The configured artifact store, and local files of its objects for the worker. */
export interface ArtifactStorage {
  store: ArtifactStore;
  files: ArtifactFileCache;
  /** For the start-up log: where artifacts go, without secrets. */
  describe: string;
}

/** Builds the store ATELIER_STORAGE names; everything lives under `dataDir` unless it is S3. */
export function createArtifactStorage(config: StorageConfig, dataDir: string): ArtifactStorage {
  const cacheDir = path.join(dataDir, 'cache', 'artifacts');
  if (config.kind === 'local') {
    const root = path.join(dataDir, 'artifacts');
    const store = new LocalArtifactStore(root);
    return { store, files: new ArtifactFileCache(store, cacheDir), describe: `local:${root}` };
  }
  const store = new S3ArtifactStore({
    endpoint: config.endpoint,
    bucket: config.bucket,
    region: config.region,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    forcePathStyle: config.forcePathStyle,
  });
  return { store, files: new ArtifactFileCache(store, cacheDir), describe: `s3:${config.endpoint} bucket ${config.bucket}` };
}
