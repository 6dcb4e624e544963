import { MigrationInterface, QueryRunner } from 'typeorm';

export class AddJobSampler1795970485666 implements MigrationInterface {
  name = 'AddJobSampler1795970485666';

  // Null: the model's scheduler config picks the sampler, as before this column.
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TYPE "public"."sampler" AS ENUM('EULER', 'EULER_ANCESTRAL', 'DDIM', 'LCM', 'DPMPP_2M')`);
    await queryRunner.query(`ALTER TABLE "jobs" ADD "sampler" "public"."sampler"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "sampler"`);
    await queryRunner.query(`DROP TYPE "public"."sampler"`);
  }
}
