/**
 * Writes a TypeORM migration with the SQL that brings a database at the latest
 * migration up to the entities: `npm run migration:generate -- AddAlbums`.
 * It diffs against an in-memory PGlite, so no server is needed.
 */
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createDataSource } from '../src/database/data-source';

const MIGRATIONS_DIR = path.resolve(__dirname, '../../src/entities/migrations');

function quote(sql: string): string {
  return '`' + sql.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${') + '`';
}

async function main(): Promise<void> {
  const name = process.argv[2];
  if (!name || !/^[A-Z][A-Za-z0-9]+$/.test(name)) throw new Error('usage: migration:generate <PascalCaseName>');
  const dataSource = createDataSource({ pgliteDir: 'memory' });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'all' });
  const sql = await dataSource.driver.createSchemaBuilder().log();
  await dataSource.destroy();
  if (sql.upQueries.length === 0) {
    console.log('entities and migrations agree: nothing to generate');
    return;
  }
  const stamp = Date.now();
  const className = `${name}${stamp}`;
  // Shared enum types (tier, session_role) appear once per table that uses them.
  const unique = (queries: { query: string }[]) => [...new Set(queries.map((q) => q.query))].map((query) => ({ query }));
  sql.upQueries = unique(sql.upQueries) as typeof sql.upQueries;
  sql.downQueries = unique(sql.downQueries) as typeof sql.downQueries;
  const up = sql.upQueries.map((q) => `    await queryRunner.query(${quote(q.query)});`).join('\n');
  const down = [...sql.downQueries].reverse().map((q) => `    await queryRunner.query(${quote(q.query)});`).join('\n');
  const file = `${stamp}-${name}`;
  writeFileSync(
    path.join(MIGRATIONS_DIR, `${file}.ts`),
    `import { MigrationInterface, QueryRunner } from 'typeorm';\n\n` +
      `export class ${className} implements MigrationInterface {\n  name = '${className}';\n\n` +
      `  async up(queryRunner: QueryRunner): Promise<void> {\n${up}\n  }\n\n` +
      `  async down(queryRunner: QueryRunner): Promise<void> {\n${down}\n  }\n}\n`,
  );
  const indexFile = path.join(MIGRATIONS_DIR, 'index.ts');
  const index = readFileSync(indexFile, 'utf8')
    .replace(/^(\/\*\*[\s\S]*?\*\/\n)/, `$1import { ${className} } from './${file}';\n`)
    .replace(/\[([^\]]*)\];/, (_m, list: string) => `[${list.trim() ? `${list.trim()}, ` : ''}${className}];`);
  writeFileSync(indexFile, index);
  console.log(`wrote src/entities/migrations/${file}.ts (${sql.upQueries.length} statements)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
