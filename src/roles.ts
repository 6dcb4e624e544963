/**
 * The operator commands (`migrate`, `seed`, and the long-running roles `all`,
 * `api`, `worker`), shared by `node dist/src/main.js <role>` and the `atelier`
 * CLI (src/cli/), so both start a role the same way.
 */
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startAtelier } from './app';
import { ConfigError, loadConfig, type AtelierConfig } from './config';
import { configuredDatabase, openDatabase, openMigrated } from './database/data-source';
import { lockDataFolder } from './database/data-folder-lock';
import { AiModel, InferenceBackend, Role, User } from './entities';
import { appliedMigrations } from './database/installation-transfer/table-rows';
import { findModelNamed } from './database/model-names';
import { seedBuiltInPresets, seedTierPolicies, upsertModel } from './database/seed';
import { PipelineError } from './gpu-worker/pipeline/errors';
import { hashModelDir, readModelIndex } from './gpu-worker/pipeline/model-files';
import { createArtifactStorage } from './storage/create-store';
import { isPushableModelName, pushModelFolder } from './storage/model-folders';
import { createLogger } from './observability/logger';
import { writeTinyModel } from './gpu-worker/onnx/tiny-model/write';
import { printJson } from './cli/output';

export const OPERATOR_COMMANDS = ['all', 'api', 'worker', 'migrate', 'seed'] as const;
export type OperatorCommand = (typeof OPERATOR_COMMANDS)[number];

const USAGE = `usage: atelier [${OPERATOR_COMMANDS.join('|')}]`;

/** How an operator command reports: `json` prints one JSON document on stdout for `migrate` and `seed` (the CLI's `--json`). */
export interface OperatorOptions { json?: boolean }

export const isOperatorCommand = (value: string): value is OperatorCommand => (OPERATOR_COMMANDS as readonly string[]).includes(value);

/** The tiny model is built on first start so `npm start` needs no download. */
async function ensureDefaultModel(config: AtelierConfig): Promise<void> {
  const dir = path.join(config.modelsDir, config.defaultModel);
  if (config.defaultModel !== 'atelier-tiny' || existsSync(path.join(dir, 'model_index.json'))) return;
  console.log(`building the bundled tiny model into ${dir} …`);
  await writeTinyModel(dir);
}

/**
 * Runs one operator command. `migrate` and `seed` resolve when done; the roles
 * resolve once ready and keep the process alive until SIGTERM/SIGINT.
 * Throws ConfigError for a bad command or configuration.
 */
export async function runOperatorCommand(command: string, options: OperatorOptions = {}): Promise<void> {
  if (!isOperatorCommand(command)) throw new ConfigError(USAGE);
  const env = ['all', 'api', 'worker'].includes(command) ? { ...process.env, ATELIER_ROLE: command } : process.env;
  const config = loadConfig(env);
  const logger = createLogger();

  if (command === 'migrate' || command === 'seed') {
    // Progress goes to stderr: with --json, stdout holds the one JSON document.
    const unlock = config.databaseUrl ? null : await lockDataFolder(config.dataDir, { onWait: (m) => console.error(m) });
    let migrations: { applied: string[]; latest: string | null };
    try {
      const { db, applied } = await openMigrated(configuredDatabase(config));
      try {
        migrations = { applied, latest: (await appliedMigrations(db)).at(-1) ?? null };
        if (command === 'seed') {
          await seedTierPolicies(db);
          await seedBuiltInPresets(db);
        }
      } finally {
        await db.destroy();
      }
    } finally {
      await unlock?.();
    }
    const database = config.databaseUrl ? 'postgresql' : 'pglite';
    if (options.json) printJson(command === 'migrate' ? { database, migrations } : { database, migrations, seeded: ['tier policies', 'built-in presets'] });
    else console.log(command === 'migrate' ? 'migrations applied' : 'reference data seeded');
    return;
  }

  if (!config.databaseUrl && config.role !== 'all') {
    throw new ConfigError('The embedded database (PGlite) opens in one process only: run `atelier all`, or set DATABASE_URL to run api and worker separately');
  }
  // The embedded database and the local redis-server live in the data folder: one process at a time there.
  // Released when the process exits.
  if (!config.databaseUrl || !config.redisUrl) await lockDataFolder(config.dataDir, { onWait: (m) => console.log(m) });
  await ensureDefaultModel(config);
  const atelier = await startAtelier(config, { logger });
  const what = config.role === 'worker' ? 'worker' : `Atelier ${config.role === 'all' ? '(API + worker)' : 'API'}`;
  console.log(`\n${what} ready${config.role === 'worker' ? '' : ` at ${atelier.url}/graphql`}`);
  console.log(`  database: ${config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${path.join(config.dataDir, 'pglite')}`}`);
  console.log(`  redis:    ${config.redisUrl ? 'REDIS_URL' : 'local redis-server (stops with the service)'}`);
  console.log(`  metrics:  ${atelier.metricsUrl ?? atelier.url}/metrics (health: /healthz, /readyz)`);
  // An installation moved with `atelier import` (or set up earlier) already has its admins.
  if (!config.adminEmail && !(await atelier.db.getRepository(User).existsBy({ role: Role.ADMIN }))) {
    console.log('  no admin: restart with ATELIER_ADMIN_EMAIL=you@example.com ATELIER_ADMIN_PASSWORD=… to create one');
  }

  // Graceful shutdown: the API stops listening, finishes in-flight requests and
  // closes WebSockets with 1001 (clients reconnect elsewhere); the worker takes
  // no new job and finishes its current one within ATELIER_SHUTDOWN_GRACE_SECONDS,
  // else hands it back to the queue. A second signal, or a stop that overruns
  // the grace period by a minute, exits at once (BullMQ then recovers the job).
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, graceSeconds: config.shutdownGraceSeconds }, 'shutting down: finishing in-flight work');
    setTimeout(() => {
      logger.error('shutdown overran its grace period: exiting');
      process.exit(1);
    }, (config.shutdownGraceSeconds + 60) * 1000).unref();
    atelier.stop().then(() => {
      logger.info('shutdown complete');
      process.exit(0);
    }, (err) => {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}


/** What `atelier models push` uploaded. */
export interface PushedModel { name: string; sha256: string; files: number; bytes: number }

/**
 * `atelier models push <dir>`: uploads an ONNX model folder (diffusers
 * layout) to the configured artifact store and records it, with every file's
 * SHA-256, in the models table, so workers without the folder fetch and check
 * it (docs/operations.md, "Models in the artifact store"). Pushing a changed
 * folder again replaces the files and the hashes; the name of a model
 * registered on another backend or with a path of its own is refused
 * (ConfigError), as is another spelling of a taken name. On the embedded database it
 * holds the data folder's lock, so a running service refuses it (ConfigError,
 * exit 2) before anything is written.
 */
export async function pushModel(dir: string, name = path.basename(path.resolve(dir)), env: NodeJS.ProcessEnv = process.env): Promise<PushedModel> {
  if (!isPushableModelName(name)) throw new ConfigError(`model name ${JSON.stringify(name)} must be letters, digits, ".", "_" or "-" (give --name)`);
  const config = loadConfig(env);
  let index;
  try {
    index = await readModelIndex(dir);
  } catch (error) {
    if (error instanceof PipelineError) throw new ConfigError(`${dir} is not an ONNX model folder: ${error.message}`);
    throw error;
  }
  // On the embedded database the service must be stopped: a push beside it writes a database the service has
  // open, which loses the row or corrupts the folder (docs/operations.md, "One process per data folder").
  const unlock = config.databaseUrl ? null : await lockDataFolder(config.dataDir, { onWait: (m) => console.error(m), advice: pushAdvice(config, name) });
  try {
    const hash = await hashModelDir(dir);
    const { store } = createArtifactStorage(config.storage, config.dataDir);
    const db = await openDatabase(configuredDatabase(config));
    try {
      // Names are unique regardless of case; another spelling would store the files where the row does not look.
      // Only a folder model's row may take the files: a push would rewrite any other's files, hashes and
      // description (and enable it), and its backend or its own path would never use them.
      const taken = await findModelNamed(db, name);
      if (taken && !isFolderModel(taken)) throw new ConfigError(`${notAFolderModel(taken)}: push under another name (--name)`);
      if (taken && taken.name !== name) {
        throw new ConfigError(`A model named ${JSON.stringify(taken.name)} exists already (model names are unique regardless of case): push with --name ${taken.name} to replace its files`);
      }
      await pushModelFolder(store, dir, { name, files: hash.files });
      const description = index.atelier?.description ?? `${index._class_name ?? 'diffusers'} model`;
      await upsertModel(db, { name, description, sha256: hash.sha256, bytes: hash.bytes, files: hash.files }, { enabled: true });
    } finally {
      await db.destroy();
    }
    return { name, sha256: hash.sha256, files: hash.files.length, bytes: hash.bytes };
  } finally {
    await unlock?.();
  }
}

/** A model whose files are its folder `<models dir>/<name>` (or a push's copy in the store): ONNX without a path of its own. */
const isFolderModel = (model: AiModel): boolean => model.backend === InferenceBackend.ONNX && model.path === null;

/** Why a push may not take `model`'s name: what the model is. */
function notAFolderModel(model: AiModel): string {
  const what = model.backend === InferenceBackend.ONNX ? `an ONNX model registered with the path ${JSON.stringify(model.path)}` : `a model on the ${model.backend} backend`;
  return `A model named ${JSON.stringify(model.name)} exists already as ${what}, not a model folder (model names are unique regardless of case)`;
}

/** What to do instead of a push that the running service's lock refuses: hand the folder to that service. */
function pushAdvice(config: AtelierConfig, name: string): string {
  return `To add the model to the running service instead, copy the folder to ${path.join(config.modelsDir, name)} and register it `
    + `as an admin (the web app's Models page, or the mutation registerModel(input: { name: ${JSON.stringify(name)}, backend: ONNX })); `
    + 'or stop the service, push, and start it again.';
}
