import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Attributes } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type http from 'node:http';

/**
 * OpenTelemetry tracing, off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
 * While off, every helper here goes through the OpenTelemetry API's no-op
 * tracer and propagator, so the code paths are the same and cost nothing.
 *
 * The trace of a generation starts at the GraphQL request (a SERVER span,
 * child of an incoming `traceparent` header if any), rides in the BullMQ job
 * data (`GenerationJobData.traceContext`, filled from {@link activeTraceContext}
 * by the job lifecycle when it enqueues), and continues in
 * the worker as a CONSUMER span: one trace from mutation to finished images,
 * across processes.
 */
let provider: NodeTracerProvider | null = null;

const tracer = () => trace.getTracer('atelier');

/** Starts the OTLP/HTTP exporter once per process; later calls reuse it. Returns whether tracing is on. */
export function startTracing(options: { endpoint?: string; serviceName: string }): boolean {
  if (provider) return true;
  if (!options.endpoint) return false;
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: process.env.OTEL_SERVICE_NAME || options.serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/$/, '')}/v1/traces` }))],
  });
  // Registers the async-hooks context manager and the W3C traceparent propagator.
  provider.register();
  return true;
}

export function tracingEnabled(): boolean {
  return provider !== null;
}

/** Sends every finished span now (tests, and shutdown). */
export async function flushTraces(): Promise<void> {
  await provider?.forceFlush();
}

/** Flushes and stops the exporter; tracing is off afterwards. */
export async function stopTracing(): Promise<void> {
  const stopping = provider;
  provider = null;
  await stopping?.shutdown();
  trace.disable();
  propagation.disable();
  context.disable();
}

/** The field a queue payload carries for trace propagation (see `GenerationJobData`). */
export interface TraceCarrier {
  /** W3C trace context (`traceparent`, `tracestate`) of the request that enqueued the job. */
  traceContext?: Record<string, string>;
}

/** The active trace context as a carrier, or undefined when there is none to carry. */
export function activeTraceContext(): Record<string, string> | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return Object.keys(carrier).length ? carrier : undefined;
}

/** Runs `fn` inside a CONSUMER span whose parent is the trace carried in the job data. */
export async function runInJobTrace<T>(data: TraceCarrier, name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  if (!provider) return fn();
  const parent = propagation.extract(ROOT_CONTEXT, data.traceContext ?? {});
  const span = tracer().startSpan(name, { kind: SpanKind.CONSUMER, attributes }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), fn);
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Middleware for `/graphql` (after the body parser): one SERVER span per HTTP
 * GraphQL request, active while Apollo runs it, so a job enqueued by the
 * mutation carries it. The request-logging plugin names it after the
 * resolved operation.
 */
export function traceGraphQLRequests(): (req: http.IncomingMessage & { body?: unknown }, res: http.ServerResponse, next: () => void) => void {
  return (req, res, next) => {
    if (!provider) return next();
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const body = req.body as { operationName?: unknown } | undefined;
    const operation = typeof body?.operationName === 'string' ? body.operationName : 'anonymous';
    const span = tracer().startSpan(`graphql ${operation}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': req.method, 'url.path': '/graphql', 'graphql.operation.name': operation },
    }, parent);
    res.once('close', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}

/** Names the active span after the resolved GraphQL operation and marks errors. */
export function annotateActiveSpan(operation: { name: string; type: string } | null, errorCodes: string[] = []): void {
  const span = trace.getActiveSpan();
  if (!span) return;
  if (operation) {
    span.updateName(`graphql ${operation.type} ${operation.name}`);
    span.setAttributes({ 'graphql.operation.name': operation.name, 'graphql.operation.type': operation.type });
  }
  if (errorCodes.length) {
    span.setAttribute('graphql.error.codes', errorCodes);
    span.setStatus({ code: SpanStatusCode.ERROR, message: errorCodes.join(',') });
  }
}
