import { Kind, getOperationAST, type ExecutionArgs, type OperationDefinitionNode } from 'graphql';
/** What this module reads of a resolver context (kept structural: observability sits below the resolvers). */
interface OperationContext {
  requestId: string;
  viewer?: { user: { id: string } } | null;
}
import type { Logger } from './logger';
import type { WebSocketStats } from './metrics';

interface Operation {
  requestId: string;
  name: string;
  sessionId: string | null;
  started: number;
}

/** The `sessionId` argument of a `sessionEvents` root field in the operation, if there is one. */
export function watchedSessionId(args: Pick<ExecutionArgs, 'document' | 'operationName' | 'variableValues'>): string | null {
  const operation: OperationDefinitionNode | null | undefined = getOperationAST(args.document, args.operationName ?? undefined);
  for (const selection of operation?.selectionSet.selections ?? []) {
    if (selection.kind !== Kind.FIELD || selection.name.value !== 'sessionEvents') continue;
    const arg = selection.arguments?.find((a) => a.name.value === 'sessionId');
    if (arg?.value.kind === Kind.STRING) return arg.value.value;
    if (arg?.value.kind === Kind.VARIABLE) {
      const value = args.variableValues?.[arg.value.name.value];
      return typeof value === 'string' ? value : null;
    }
  }
  return null;
}

/**
 * What is live on this replica's graphql-ws server: connections, the
 * operations running on each (subscriptions, mostly) and the sessions being
 * watched. Bookkeeping is per socket and dropped when the socket closes,
 * because graphql-ws does not report completion of operations cut off by a
 * closed socket. Each operation start and end is logged with its request id.
 */
export class WebSocketActivity implements WebSocketStats {
  private readonly open = new Map<object, Map<string, Operation>>();

  constructor(private readonly logger: Logger) {}

  opened(socket: object): void {
    this.open.set(socket, new Map());
  }

  closed(socket: object): void {
    for (const [id, op] of this.open.get(socket) ?? []) this.log(id, op, 'closed with the connection');
    this.open.delete(socket);
  }

  /** An operation was accepted on `socket` (called from graphql-ws `onOperation`). */
  started(socket: object, id: string, args: ExecutionArgs): void {
    const ctx = args.contextValue as OperationContext;
    const operation = getOperationAST(args.document, args.operationName ?? undefined);
    const op: Operation = {
      requestId: ctx.requestId,
      name: operation?.name?.value ?? 'anonymous',
      sessionId: watchedSessionId(args),
      started: Date.now(),
    };
    this.open.get(socket)?.set(id, op);
    this.logger.info({
      requestId: op.requestId, operation: op.name, operationType: operation?.operation ?? 'unknown', userId: ctx.viewer?.user.id ?? null,
      transport: 'ws', ...(op.sessionId ? { sessionId: op.sessionId } : {}),
    }, 'graphql-ws operation started');
  }

  completed(socket: object, id: string): void {
    const ops = this.open.get(socket);
    const op = ops?.get(id);
    if (!ops || !op) return;
    ops.delete(id);
    this.log(id, op, 'completed');
  }

  private log(_id: string, op: Operation, how: string): void {
    this.logger.info({ requestId: op.requestId, operation: op.name, transport: 'ws', durationMs: Date.now() - op.started }, `graphql-ws operation ${how}`);
  }

  connections(): number {
    return this.open.size;
  }

  subscriptions(): number {
    let total = 0;
    for (const ops of this.open.values()) total += ops.size;
    return total;
  }

  activeSessions(): number {
    const sessions = new Set<string>();
    for (const ops of this.open.values()) for (const op of ops.values()) if (op.sessionId) sessions.add(op.sessionId);
    return sessions.size;
  }
}
