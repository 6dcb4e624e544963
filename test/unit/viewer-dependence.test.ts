import {
  GraphQLObjectType, GraphQLSchema, GraphQLString, isObjectType, parse,
  type ExecutionResult, type GraphQLField,
} from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildAppSchema, buildBaseSchema } from '../../src/schema/build';
import { VIEWER_DEPENDENT } from '../../src/resolvers/viewer-dependent';
import { AsyncQueue } from '../../src/subscriptions/async-queue';
import { subscribeSharingResults } from '../../src/server/shared-execution';
import { dependsOnViewer } from '../../src/server/viewer-dependence';

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildAppSchema();
});

const classify = (query: string) => dependsOnViewer(schema, parse(query));

describe('which subscription documents depend on the viewer', () => {
  it('finds viewer-dependent fields at any depth, through inline fragments and named fragments', () => {
    expect(classify('subscription($s:ID!){ sessionEvents(sessionId:$s){ type job { session { myRole } } } }')).toBe(true);
    expect(classify('subscription($j:ID!){ jobUpdated(jobId:$j){ job { images { favorited } } } }')).toBe(true);
    expect(classify('subscription($j:ID!){ jobUpdated(jobId:$j){ job { loras { lora { ... on Lora { mine } } } } } }')).toBe(true);
    // A job's LoRA is null to a session member when it is private to the job's owner (docs/security.md, "Private LoRAs").
    expect(classify('subscription($j:ID!){ jobUpdated(jobId:$j){ job { loras { weight lora { name } } } } }')).toBe(true);
    expect(classify('subscription($j:ID!){ jobUpdated(jobId:$j){ ...E } } fragment E on JobEvent { job { model { ...M } } } fragment M on Model { usable }')).toBe(true);
    expect(classify('subscription($j:ID!){ jobUpdated(jobId:$j){ job { images { job { id } } } } }')).toBe(true);
  });

  it('leaves documents that read only the records themselves shared', () => {
    expect(classify('subscription($s:ID!){ sessionEvents(sessionId:$s){ eventId type step preview onlineUserIds job { id status images { id url } owner { id } } user { id } } }')).toBe(false);
    expect(classify('subscription($j:ID!){ jobUpdated(jobId:$j){ __typename ...E } } fragment E on JobEvent { type job { loras { weight loraId } } }')).toBe(false);
  });

  it('walks each fragment once: 40 levels of doubled spreads classify at once', () => {
    const levels = 40;
    const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i} on Job { id ...F${i + 1} ...F${i + 1} }`);
    fragments.push(`fragment F${levels} on Job { session { myRole } }`);
    const started = performance.now();
    expect(classify(`subscription($j:ID!){ jobUpdated(jobId:$j){ job { ...F0 } } } ${fragments.join(' ')}`)).toBe(true);
    expect(classify(`subscription($j:ID!){ jobUpdated(jobId:$j){ job { ...F0 } } } ${fragments.slice(0, -1).join(' ')} fragment F${levels} on Job { status }`)).toBe(false);
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('every field resolver seen reading the viewer is marked', async () => {
    const base = await buildBaseSchema();
    const reads: string[] = [];
    const marked: string[] = [];
    for (const type of Object.values(base.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__') || [base.getQueryType(), base.getMutationType(), base.getSubscriptionType()].includes(type)) continue;
      for (const field of Object.values(type.getFields()) as GraphQLField<unknown, unknown>[]) {
        if (field.extensions?.[VIEWER_DEPENDENT]) marked.push(`${type.name}.${field.name}`);
        if (field.resolve && (await readsViewer(field))) reads.push(`${type.name}.${field.name}`);
      }
    }
    // The probe can miss a read behind a branch (type-graphql copies the root into an entity), never invent one.
    expect(reads).toEqual(expect.arrayContaining(['Session.myRole', 'Image.favorited', 'Image.job', 'Lora.mine']));
    expect(reads.filter((field) => !marked.includes(field))).toEqual([]);
  });
});

/**
 * Runs a field resolver against stand-ins that answer every property and call
 * with another stand-in, and reports whether it looked at `viewer`.
 */
async function readsViewer(field: GraphQLField<unknown, unknown>): Promise<boolean> {
  let read = false;
  const anything: object = new Proxy(function standIn() {}, {
    get: (_target, key) => {
      if (key === 'viewer') read = true;
      if (key === 'then') return undefined; // not a promise: `await` gives the stand-in back
      if (key === Symbol.toPrimitive) return () => 'stand-in';
      return anything;
    },
    apply: () => anything,
  });
  try {
    await field.resolve?.(anything, {}, anything, anything as never);
  } catch {
    // Resolvers may throw on stand-ins; reading the viewer happened before.
  }
  return read;
}

describe('shared execution of subscription events', () => {
  /**
   * A schema with one plain and one viewer-dependent field, counting how often each resolves. Its source is
   * the event log's AsyncQueue (handed out mapped) or, with `plainIterator`, any other async iterator.
   */
  function countingSchema(plainIterator: boolean) {
    const calls = { plain: 0, mine: 0 };
    const queues: AsyncQueue<{ value: string }>[] = [];
    const Event = new GraphQLObjectType({
      name: 'Event',
      fields: {
        plain: { type: GraphQLString, resolve: (event: { value: string }) => (calls.plain += 1, event.value) },
        mine: {
          type: GraphQLString,
          extensions: { [VIEWER_DEPENDENT]: true },
          resolve: (event: { value: string }, _args, ctx: { user: string }) => (calls.mine += 1, `${event.value} for ${ctx.user}`),
        },
      },
    });
    const countingSchema = new GraphQLSchema({
      query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
      subscription: new GraphQLObjectType({
        name: 'Subscription',
        fields: {
          events: {
            type: Event,
            resolve: (event: unknown) => event,
            subscribe: () => {
              const queue = new AsyncQueue<{ value: string }>();
              queues.push(queue);
              if (!plainIterator) return queue;
              const iterator = { next: () => queue.next(), return: () => queue.return(), [Symbol.asyncIterator]: () => iterator };
              return iterator;
            },
          },
        },
      }),
    });
    return { schema: countingSchema, calls, publish: (event: { value: string }) => queues.forEach((q) => q.push(event)) };
  }

  async function subscribers(query: string, users: string[], plainIterator: boolean) {
    const setup = countingSchema(plainIterator);
    const streams = await Promise.all(users.map(async (user) => (await subscribeSharingResults(
      { schema: setup.schema, document: parse(query), contextValue: { user } },
      { viewerKeyOf: (context) => (context as { user: string }).user },
    )) as AsyncIterator<ExecutionResult>));
    setup.publish({ value: 'e1' });
    const results = await Promise.all(streams.map(async (s) => (await s.next()).value.data.events));
    return { results, calls: setup.calls };
  }

  const sources = [['the event log\'s queue', false], ['another async iterator', true]] as const;

  it.each(sources)('executes a viewer-independent document once per event for all subscribers (%s)', async (_source, plainIterator) => {
    const { results, calls } = await subscribers('subscription { events { plain } }', ['ann', 'bob', 'cy', 'ann'], plainIterator);
    expect(results).toEqual([{ plain: 'e1' }, { plain: 'e1' }, { plain: 'e1' }, { plain: 'e1' }]);
    expect(calls.plain).toBe(1);
  });

  it.each(sources)('executes a viewer-dependent document once per viewer, so each gets their own answer (%s)', async (_source, plainIterator) => {
    const { results, calls } = await subscribers('subscription { events { plain mine } }', ['ann', 'bob', 'cy', 'ann'], plainIterator);
    expect(results.map((r) => r.mine)).toEqual(['e1 for ann', 'e1 for bob', 'e1 for cy', 'e1 for ann']);
    expect(calls.mine).toBe(3);
  });
});
