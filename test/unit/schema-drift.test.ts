import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildBaseSchema, printAppSchema } from '../../src/schema/build';

describe('printed schema', () => {
  it('src/schema/schema.graphql matches the code (run `npm run schema:print`)', async () => {
    const committed = readFileSync(path.resolve(__dirname, '../../src/schema/schema.graphql'), 'utf8');
    expect(printAppSchema(await buildBaseSchema())).toBe(committed);
  });

  it('every type, field and argument has a description', async () => {
    const schema = await buildBaseSchema();
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name)) continue;
      if (!type.description) missing.push(type.name);
      if ('getFields' in type) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of 'args' in field ? field.args : []) if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
