import { MigrationInterface, QueryRunner } from 'typeorm';

export class ModelBackends1795973862617 implements MigrationInterface {
  name = 'ModelBackends1795973862617';

  // Existing rows are ONNX models from the models folder: the defaults keep them as they were.
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TYPE "public"."inference_backend" AS ENUM('ONNX', 'COMFYUI', 'OPENAI_IMAGES')`);
    await queryRunner.query(`ALTER TABLE "models" ADD "backend" "public"."inference_backend" NOT NULL DEFAULT 'ONNX'`);
    await queryRunner.query(`ALTER TABLE "models" ADD "endpoints" jsonb NOT NULL DEFAULT '[]'::jsonb`);
    await queryRunner.query(`ALTER TABLE "models" ADD "workflow" jsonb`);
    await queryRunner.query(`ALTER TABLE "models" ADD "remote_model" text`);
    await queryRunner.query(`ALTER TABLE "models" ADD "credential_ciphertext" text`);
    await queryRunner.query(`ALTER TABLE "models" ADD "path" text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "models" DROP COLUMN "path"`);
    await queryRunner.query(`ALTER TABLE "models" DROP COLUMN "credential_ciphertext"`);
    await queryRunner.query(`ALTER TABLE "models" DROP COLUMN "remote_model"`);
    await queryRunner.query(`ALTER TABLE "models" DROP COLUMN "workflow"`);
    await queryRunner.query(`ALTER TABLE "models" DROP COLUMN "endpoints"`);
    await queryRunner.query(`ALTER TABLE "models" DROP COLUMN "backend"`);
    await queryRunner.query(`DROP TYPE "public"."inference_backend"`);
  }
}
