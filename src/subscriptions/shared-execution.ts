import {
  createSourceEventStream, execute, print,
  type ExecutionArgs, type ExecutionResult,
} from 'graphql';

type Result = ExecutionResult | Promise<ExecutionResult>;

/** Per delivered event object: execution results by document + variables. */
const cache = new WeakMap<object, Map<string, Result>>();

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * graphql-js executes a subscription's selection once per subscriber per
 * event. Members of a session subscribe with the same document and
 * variables and the event log hands every local listener the same event
 * object, so the result is computed once and shared. This holds because
 * event types resolve only from the event payload; a field that depended on
 * the viewer would need the viewer in the cache key.
 */
export async function subscribeSharingResults(
  args: ExecutionArgs,
  /** Per-event context (e.g. fresh DataLoaders: a subscription outlives any cache). */
  contextForEvent: (context: unknown) => unknown = (context) => context,
): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!isAsyncIterable(source)) return source as ExecutionResult;
  const key = `${print(args.document)}\n${args.operationName ?? ''}\n${JSON.stringify(args.variableValues ?? {})}`;
  const iterator = source[Symbol.asyncIterator]();
  return (async function* results() {
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        const payload = next.value;
        if (typeof payload !== 'object' || payload === null) {
          yield await execute({ ...args, rootValue: payload, contextValue: contextForEvent(args.contextValue) });
          continue;
        }
        let byKey = cache.get(payload);
        if (!byKey) {
          byKey = new Map();
          cache.set(payload, byKey);
        }
        let result = byKey.get(key);
        if (!result) {
          result = execute({ ...args, rootValue: payload, contextValue: contextForEvent(args.contextValue) });
          byKey.set(key, result);
        }
        yield await result;
      }
    } finally {
      await iterator.return?.();
    }
  })();
}
