import {
  createSourceEventStream, execute, print,
  type DocumentNode, type ExecutionArgs, type ExecutionResult,
} from 'graphql';
import { flatString } from '../kernel/flat-string';
import { AsyncQueue } from '../subscriptions/async-queue';
import { dependsOnViewer } from './viewer-dependence';

type Result = ExecutionResult | Promise<ExecutionResult>;

/** Per delivered event object: execution results by sharing key. */
const cache = new WeakMap<object, Map<string, Result>>();

/** Each document's printed text, printed once: subscribers share parsed documents (schema/check-document.ts). */
const printed = new WeakMap<DocumentNode, string>();
function printedOnce(document: DocumentNode): string {
  let text = printed.get(document);
  if (text === undefined) {
    text = print(document);
    printed.set(document, text);
  }
  return text;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

export interface SharingOptions {
  /** Per-event context (e.g. fresh DataLoaders: a subscription outlives any cache). */
  contextForEvent?: (context: unknown) => unknown;
  /**
   * Everything about the viewer that a viewer-dependent field may read (id,
   * role, tier), read from the subscription's context at each event:
   * subscribers with the same key may share such a result.
   */
  viewerKeyOf?: (context: unknown) => string;
}

/**
 * graphql-js executes a subscription's selection once per subscriber per
 * event. Members of a session subscribe with the same document and
 * variables and the event log hands every local listener the same event
 * object, so the result is computed once and shared. A document that reaches
 * a viewer-dependent field (`Session.myRole`, `Image.favorited`, …; see
 * schema/viewer-dependent.ts) is shared only among subscribers with the same
 * viewer key, so each subscriber gets what the same document would return to
 * them over HTTP.
 *
 * The stream is a plain iterator, not an async generator: a generator waiting
 * for the next event runs `return()` only once that event comes, so a closed
 * socket's cleanup (presence, event-log listener) would wait for it. Here
 * `return()` reaches the source at once.
 */
export async function subscribeSharingResults(
  args: ExecutionArgs,
  options: SharingOptions = {},
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!isAsyncIterable(source)) return source as ExecutionResult;
  const { contextForEvent = (context: unknown) => context, viewerKeyOf = () => '' } = options;
  const perViewer = dependsOnViewer(args.schema, args.document, args.operationName);
  // Held for the subscription's life, so kept flat (one string, not a rope of its pieces).
  const documentKey = flatString(`${printedOnce(args.document)}\n${args.operationName ?? ''}\n${JSON.stringify(args.variableValues ?? {})}`);
  const iterator = source[Symbol.asyncIterator]();

  // The per-event context (fresh DataLoaders) is built only by the subscriber
  // that executes; the others reuse its result, so with 10,000 subscribers a
  // context per subscriber per event was most of the delivery's own cost.
  const run = (payload: unknown): Result => execute({ ...args, rootValue: payload, contextValue: contextForEvent(args.contextValue) });
  const resultFor = (payload: unknown): Result => {
    if (typeof payload !== 'object' || payload === null) return run(payload);
    const key = perViewer ? `${documentKey}\n${viewerKeyOf(args.contextValue)}` : documentKey;
    let byKey = cache.get(payload);
    if (!byKey) {
      byKey = new Map();
      cache.set(payload, byKey);
    }
    let result = byKey.get(key);
    if (!result) {
      result = run(payload);
      byKey.set(key, result);
    }
    return result;
  };

  // The event log's own queue hands out each event's shared result itself (one promise per delivery).
  if (iterator instanceof AsyncQueue) return (iterator as AsyncQueue<unknown>).mapped(resultFor);

  // Other sources: plain promise chains, not async functions: this runs once per subscriber
  // per event, and a result computed without waiting (the usual case) is
  // handed on without another turn of the microtask queue.
  const done = (): IteratorResult<ExecutionResult> => ({ done: true, value: undefined });
  const item = (result: ExecutionResult): IteratorResult<ExecutionResult> => ({ done: false, value: result });
  const stream: AsyncIterableIterator<ExecutionResult> = {
    next() {
      return iterator.next().then((next) => {
        if (next.done) return done();
        const result = resultFor(next.value);
        return result instanceof Promise ? result.then(item) : item(result);
      });
    },
    async return() {
      await iterator.return?.();
      return done();
    },
    async throw(error?: unknown) {
      await iterator.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  };
  return stream;
}
