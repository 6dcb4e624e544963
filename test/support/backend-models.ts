import { randomUUID } from 'node:crypto';
import net from 'node:net';
import type { DataSource } from 'typeorm';
import { AiModel, InferenceBackend } from '../../src/entities';
import type { ComfyWorkflow } from '../../src/kernel/backends';
import { sealCredential } from '../../src/kernel/credentials';

/**
 * Registers a remote model straight in the models table (what registerModel
 * stores), for tests of the worker side; returns its id.
 */
export async function remoteModel(
  app: { db: DataSource; config: { credentialKey: Buffer } },
  values: { backend: 'COMFYUI' | 'OPENAI_IMAGES'; endpoints: string[]; workflow?: Record<string, unknown>; remoteModel?: string; credential?: string },
): Promise<string> {
  const models = app.db.getRepository(AiModel);
  const row = models.create({
    name: `remote-${randomUUID().slice(0, 8)}`, description: null, sha256: '', bytes: 0, files: [], enabled: true, isDefault: false,
    backend: values.backend as InferenceBackend, endpoints: values.endpoints, workflow: (values.workflow ?? null) as ComfyWorkflow | null,
    remoteModel: values.remoteModel ?? null, credentialCiphertext: values.credential ? sealCredential(values.credential, app.config.credentialKey) : null,
  });
  await models.insert(row);
  return row.id;
}

/** A loopback port nothing listens on (one just closed): a connection to it is refused. */
export async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * A loopback server that accepts connections and never answers anything on them (a hung server, or a proxy
 * holding the request): an HTTP request or a WebSocket upgrade to it waits for its timeout.
 */
export async function unansweringServer(): Promise<{ url: string; close(): Promise<void> }> {
  const held = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    held.add(socket);
    socket.on('close', () => held.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
