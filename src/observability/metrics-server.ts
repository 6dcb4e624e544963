import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { mountHealthRoutes, type HealthOptions } from './health';

/** A small HTTP server of its own. */
export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * A standalone worker has no API port, so it serves `/metrics`, `/healthz`
 * and `/readyz` on its own (ATELIER_METRICS_PORT, default 9464, the port
 * OpenTelemetry's Prometheus exporter uses by convention). Prometheus scrapes
 * each worker directly; nothing is relayed through Redis, so a worker that
 * stops answering also stops reporting, which is what an alert should see.
 */
export async function startMetricsServer(port: number, options: Omit<HealthOptions, 'app'>): Promise<MetricsServer> {
  const app = express();
  app.disable('x-powered-by');
  mountHealthRoutes({ ...options, app });
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, resolve);
  });
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
