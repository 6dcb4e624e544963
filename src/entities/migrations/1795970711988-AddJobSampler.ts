import { MigrationInterface, QueryRunner } from 'typeorm';

export class AddJobSampler1795970711988 implements MigrationInterface {
  name = 'AddJobSampler1795970711988';

  // Null: the model's scheduler config picks the sampler, as before these columns.
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TYPE "public"."sampler" AS ENUM('EULER', 'EULER_ANCESTRAL', 'DDIM', 'LCM', 'DPMPP_2M')`);
    await queryRunner.query(`ALTER TABLE "jobs" ADD "sampler" "public"."sampler"`);
    await queryRunner.query(`ALTER TABLE "presets" ADD "sampler" "public"."sampler"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "presets" DROP COLUMN "sampler"`);
    await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "sampler"`);
    await queryRunner.query(`DROP TYPE "public"."sampler"`);
  }
}
