/**
 * The `worker` bench's floor: a job's guarantees kept with plain parts and
 * nothing of Atelier's, for the same client to time beside the service.
 *
 * What a job is promised, and what this does for it:
 * - it exists durably before it runs, and before the submission is answered:
 *   a `node:http` POST handler inserts the same `jobs` row (one statement,
 *   its own transaction), adds the BullMQ entry, then answers;
 * - a worker takes it as it is queued: a plain BullMQ `Worker` on a queue
 *   of its own, which marks the row started (one conditional `UPDATE`);
 * - every step is streamed and kept for a client that resumes: STARTED,
 *   each step's PROGRESS and COMPLETED are appended to the job's Redis
 *   stream and published (`XADD` then `PUBLISH`, in a Lua script), the
 *   steps that come within the service's window (`STEP_EVENTS_WINDOW_MS`)
 *   in one call;
 * - its images are stored and committed before COMPLETED is told: the PNG
 *   is written to a file (a temporary one renamed into place; by the render
 *   thread, as the service has it, when the pipeline is one), then one
 *   statement completes the row and inserts the image's row;
 * - the client hears it over graphql-ws: a `ws` server speaking graphql-ws's
 *   protocol (`connection_init`/`ack`, `subscribe`, `next`, `complete`),
 *   which reads the job's stream when the subscription opens (what the job
 *   told before it) and then hands on what the one Redis subscription hears.
 *
 * Left out, because they are Atelier's own work rather than a guarantee's
 * floor: authentication, validation, quotas and rate limits, GraphQL
 * parsing and execution, queue positions and ETAs, webhooks, metrics. The
 * render runs where `pipeline` runs it: on this thread for the bare
 * pipeline, in a thread of its own for a ThreadedPipeline (the service's).
 * docs/performance.md, "A job's guarantees in plain parts".
 */
import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { WebSocketServer, type WebSocket } from 'ws';
import { AiModel, Job, JobStatus } from '../src/entities';
import { WindowedBatches } from '../src/kernel/windowed-batches';
import { compareEventIds } from '../src/subscriptions/event-log';
import { STEP_EVENTS_WINDOW_MS, type GenerationRequest, type ImagePipeline } from '../src/gpu-worker/pipeline/types';
import type { Atelier } from '../src/app';

/** What the floor uses of a running Atelier: its database, its Redis (the floor's keys under its prefix). */
type BenchApp = Pick<Atelier, 'db' | 'redis' | 'config'>;

const START = `WITH started AS (
    UPDATE jobs SET status = 'PROCESSING', started_at = $2, attempts = attempts + 1, step = 0, updated_at = $2
    WHERE id = $1 AND status = 'PENDING' RETURNING id)
  SELECT count(*)::int AS won FROM started`;
const COMPLETE = `WITH done AS (
    UPDATE jobs SET status = 'COMPLETED', completed_at = $2, step = $3, updated_at = $2
    WHERE id = $1 AND status = 'PROCESSING' RETURNING id, owner_id),
  added AS (
    INSERT INTO images (id, job_id, owner_id, "index", seed, width, height, storage_key, sha256, bytes)
    SELECT gen_random_uuid(), done.id, done.owner_id, 0, $4, $5, $6, $7, $8, $9 FROM done RETURNING id)
  SELECT (SELECT count(*)::int FROM added) AS won`;
/** Appends events to the job's stream and publishes each with its stream id: `<job id> <stream id> <event JSON>`. */
const APPEND = `for i = 2, #ARGV do
    local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', 2000, '*', 'e', ARGV[i])
    redis.call('PUBLISH', KEYS[2], ARGV[1] .. ' ' .. id .. ' ' .. ARGV[i])
  end`;

/** A subscription (one per job: the bench's client opens one): its socket, graphql-ws id and job; the last event told; live events held while its stream is read. */
interface Watch { socket: WebSocket; id: string; jobId: string; last: string | null; held: [string, string][] | null }

/** The job row a submission inserts, as TypeORM writes it (the admission bench's floor writes the same). */
export async function jobInsert(app: BenchApp, ownerId: string) {
  const model = await app.db.getRepository(AiModel).findOneByOrFail({ isDefault: true });
  return (id: string, input: { prompt: string; width: number; height: number; steps: number; seed: number }) =>
    app.db.createQueryBuilder().insert().into(Job).values(app.db.getRepository(Job).create({
      id, ownerId, modelId: model.id, status: JobStatus.PENDING, prompt: input.prompt, negativePrompt: null, width: input.width,
      height: input.height, steps: input.steps, guidanceScale: 7.5, seed: input.seed, count: 1, loras: [], priority: 1, step: 0,
      attempts: 0, createdAt: new Date(),
    })).getQueryAndParameters();
}

export async function startJobFloor(app: BenchApp, ownerId: string, pipeline: ImagePipeline, name: string): Promise<{ url: string; close: () => Promise<void> }> {
  const insert = await jobInsert(app, ownerId);
  const connection = { host: app.redis.options.host, port: app.redis.options.port };
  const prefix = `${app.config.redisPrefix}:floor-${name}`;
  const channel = `${prefix}:events`;
  const stream = (jobId: string) => `${prefix}:stream:${jobId}`;
  const commands = new Redis(connection);
  commands.defineCommand('append', { numberOfKeys: 2, lua: APPEND });
  const append = (jobId: string, events: Record<string, unknown>[]) =>
    (commands as unknown as { append: (...a: string[]) => Promise<unknown> }).append(stream(jobId), channel, jobId, ...events.map((e) => JSON.stringify(e)));
  const files = mkdtempSync(path.join(os.tmpdir(), 'atelier-floor-'));

  const queue = new Queue<{ jobId: string; request: GenerationRequest }>(name, { connection, prefix, defaultJobOptions: { removeOnComplete: true } });
  const worker = new Worker<{ jobId: string; request: GenerationRequest }>(name, async (entry) => {
    const { jobId, request } = entry.data;
    const [{ won }] = await app.db.query(START, [jobId, new Date()]) as { won: number }[];
    if (!won) throw new Error(`floor job ${jobId} was not PENDING`);
    void append(jobId, [{ type: 'STARTED' }]);
    // Steps that come within the service's window go out in one write, as the service sends them.
    const steps = new WindowedBatches<Record<string, unknown>>(STEP_EVENTS_WINDOW_MS, (batch) => void append(jobId, batch));
    const file = path.join(files, `${jobId}-0.png`);
    // A render thread writes the file itself (`saveTo`); the bare pipeline's PNG is written here.
    const [image] = await pipeline.generate(request, {
      saveTo: [file], onStep: (p) => steps.add({ type: 'PROGRESS', step: p.step }, p.step === request.steps),
    });
    steps.flush();
    if (!image.savedTo) {
      await writeFile(`${file}.tmp`, image.png);
      await rename(`${file}.tmp`, file);
    }
    const [done] = await app.db.query(COMPLETE, [jobId, new Date(), request.steps, image.seed, image.width, image.height, file, image.sha256, image.png.length]) as { won: number }[];
    if (!done.won) throw new Error(`floor job ${jobId} was not PROCESSING`);
    await append(jobId, [{ type: 'COMPLETED' }]);
  }, { connection: { ...connection, maxRetriesPerRequest: null }, prefix, concurrency: 1 });

  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => { body += chunk; });
    req.on('end', () => {
      const input = (JSON.parse(body) as { variables: { i: GenerationRequest & { seed: number } } }).variables.i;
      const jobId = randomUUID();
      const [sql, params] = insert(jobId, input);
      app.db.query(sql, params)
        .then(() => queue.add('generate', { jobId, request: input }, { jobId }))
        .then(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { createGeneration: { id: jobId } } })))
        .catch((error: Error) => res.writeHead(500).end(error.message));
    });
  });

  const watches = new Map<string, Watch>();
  const tell = (watch: Watch, streamId: string, event: string) => {
    watch.last = streamId;
    watch.socket.send(`{"id":${JSON.stringify(watch.id)},"type":"next","payload":{"data":{"jobUpdated":${event}}}}`);
    if (event.startsWith('{"type":"COMPLETED"')) {
      watch.socket.send(`{"id":${JSON.stringify(watch.id)},"type":"complete"}`);
      watches.delete(watch.jobId);
    }
  };
  const subscriber = new Redis(connection);
  await subscriber.subscribe(channel);
  subscriber.on('message', (_channel: string, message: string) => {
    const first = message.indexOf(' ');
    const second = message.indexOf(' ', first + 1);
    const watch = watches.get(message.slice(0, first));
    if (!watch) return;
    const streamId = message.slice(first + 1, second);
    if (watch.held) watch.held.push([streamId, message.slice(second + 1)]);
    else if (!watch.last || compareEventIds(streamId, watch.last) > 0) tell(watch, streamId, message.slice(second + 1));
  });
  const sockets = new WebSocketServer({ server, path: '/graphql' });
  sockets.on('connection', (socket) => {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; id?: string; payload?: { variables?: { id?: string } } };
      if (message.type === 'connection_init') return socket.send('{"type":"connection_ack"}');
      if (message.type !== 'subscribe') return;
      // Live events are held while the stream is read, then those after what it held are told.
      const jobId = message.payload!.variables!.id!;
      const watch: Watch = { socket, id: message.id!, jobId, last: null, held: [] };
      watches.set(jobId, watch);
      void commands.xrange(stream(jobId), '-', '+').then((told) => {
        const held = watch.held!;
        watch.held = null;
        for (const [streamId, fields] of told) tell(watch, streamId, fields[1]);
        for (const [streamId, event] of held) if (!watch.last || compareEventIds(streamId, watch.last) > 0) tell(watch, streamId, event);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };

  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets.clients) socket.terminate();
      await new Promise((resolve) => sockets.close(resolve));
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await worker.close();
      await queue.close();
      subscriber.disconnect();
      commands.disconnect();
      await rm(files, { recursive: true, force: true });
    },
  };
}
