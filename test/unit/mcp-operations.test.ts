import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import * as operations from '../../src/mcp/operations';

const schema = buildSchema(readFileSync(path.join(__dirname, '../../src/schema/schema.graphql'), 'utf8'));

describe('MCP server operations', () => {
  it.each(Object.entries(operations))('%s is valid against the committed schema', (_name, document) => {
    expect(validate(schema, parse(document)).map((error) => error.message)).toEqual([]);
  });
});
