import { MigrationInterface, QueryRunner } from 'typeorm';
import { AppError, ErrorCode } from '../../kernel/errors';

/**
 * Model names unique regardless of case ("Comfy A" and "comfy a" are one
 * name): the unique index on `name` becomes one on `lower(name)`. Rows that
 * already differ only in case are not renamed here (a folder model's name is
 * its folder, and jobs, presets and scripts know models by name): the
 * migration stops, naming them, until an operator renames all but one
 * (BAD_USER_INPUT, which openMigrated makes a MigrationRefusedError: one line,
 * exit 2, from `atelier migrate` and `npm start`).
 */
export class ModelNamesIgnoreCase1796159500000 implements MigrationInterface {
  name = 'ModelNamesIgnoreCase1796159500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const collisions: { names: string[]; ids: string[] }[] = await queryRunner.query(
      `SELECT array_agg(name ORDER BY name COLLATE "C") AS names, array_agg(id::text ORDER BY name COLLATE "C") AS ids
       FROM models GROUP BY lower(name) HAVING count(*) > 1 ORDER BY lower(name) COLLATE "C"`,
    );
    if (collisions.length > 0) {
      const listed = collisions.map((c) => `${c.names.map((n) => JSON.stringify(n)).join(', ')} (ids ${c.ids.join(', ')})`).join('; ');
      throw new AppError(ErrorCode.BAD_USER_INPUT, `Model names must be unique regardless of case, and these differ only in case: ${listed}. `
        + 'Rename all but one of each (updateModel on the previous release, or UPDATE models SET name = \'…\' WHERE id = \'…\'), then start again.');
    }
    await queryRunner.query(`DROP INDEX "public"."IDX_3492c71396207453cf17c0928f"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_models_name_lower" ON "models" (lower("name"))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."uq_models_name_lower"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "IDX_3492c71396207453cf17c0928f" ON "models" ("name") `);
  }
}
