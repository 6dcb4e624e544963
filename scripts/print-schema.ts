/** Prints the GraphQL schema to src/schema/schema.graphql (`npm run schema:print`). */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildBaseSchema, printAppSchema } from '../src/schema/build';

buildBaseSchema()
  .then((schema) => {
    const file = path.resolve(__dirname, '../../src/schema/schema.graphql');
    writeFileSync(file, printAppSchema(schema));
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  })
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
