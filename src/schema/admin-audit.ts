import type { GraphQLResolveInfo } from 'graphql';
import type { IMiddlewareFunction } from 'graphql-middleware';
import { AuditEventKind } from '../entities';
import { originOf, type AppContext } from '../resolvers/context';
import { findAppError } from '../kernel/errors';

/**
 * An admin's arguments as the audit log keeps them: a model's credential is
 * replaced by whether one was given (it is stored sealed, never in clear),
 * and a ComfyUI workflow by its node count (it can be 256 KiB).
 */
export function auditedArguments(args: Record<string, unknown>): Record<string, unknown> {
  const input = args.input;
  if (typeof input !== 'object' || input === null) return args;
  const { credential, workflow, ...rest } = input as Record<string, unknown>;
  const kept: Record<string, unknown> = { ...rest };
  if (credential != null) kept.credential = credential === '' ? '(removed)' : '(given, stored sealed)';
  if (workflow != null) kept.workflow = typeof workflow === 'object' ? `(${Object.keys(workflow).length} nodes)` : '(not an object)';
  return { ...args, input: kept };
}

/**
 * Field middleware that records every call of an admin-only mutation in the
 * audit log (ADMIN_ACTION: the mutation, its arguments and, when refused,
 * the error code), whichever transport it came by. Runs inside the shield,
 * so only calls that passed the admin rule get here.
 */
export function adminActionAudit(mutations: readonly string[]) {
  const audited: IMiddlewareFunction<unknown, AppContext, Record<string, unknown>> = async (resolve, root, args, ctx, info: GraphQLResolveInfo) => {
    const record = (reason: string | null) => ctx.services.audit.record({
      kind: AuditEventKind.ADMIN_ACTION, actorId: ctx.viewer?.user.id ?? null, origin: originOf(ctx), reason,
      details: { action: info.fieldName, arguments: auditedArguments(args) },
    });
    try {
      const result: unknown = await resolve(root, args, ctx, info);
      await record(null);
      return result;
    } catch (error) {
      await record(findAppError(error)?.code ?? 'INTERNAL');
      throw error;
    }
  };
  return { Mutation: Object.fromEntries(mutations.map((field) => [field, audited])) };
}
