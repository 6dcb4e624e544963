import { describe, expect, it } from 'vitest';
import { buildBaseSchema } from '../../src/schema/build';
import { ROOT_RULES } from '../../src/schema/permissions';

describe('permissions', () => {
  it('every Query, Mutation and Subscription field has an explicit rule (deny by default otherwise)', async () => {
    const schema = await buildBaseSchema();
    const missing: string[] = [];
    for (const root of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
      if (!root) continue;
      const rules = (ROOT_RULES as Record<string, Record<string, unknown>>)[root.name] ?? {};
      for (const field of Object.keys(root.getFields())) if (!rules[field]) missing.push(`${root.name}.${field}`);
    }
    expect(missing).toEqual([]);
  });

  it('no rule names a field that does not exist', async () => {
    const schema = await buildBaseSchema();
    const stale: string[] = [];
    for (const [typeName, rules] of Object.entries(ROOT_RULES)) {
      const type = schema.getType(typeName) as { getFields(): Record<string, unknown> } | undefined;
      for (const field of Object.keys(rules)) if (!type?.getFields()[field]) stale.push(`${typeName}.${field}`);
    }
    expect(stale).toEqual([]);
  });
});
