import { MigrationInterface, QueryRunner } from 'typeorm';

export class ApiKeyWebhooks1795344111507 implements MigrationInterface {
  name = 'ApiKeyWebhooks1795344111507';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "api_keys" ADD "webhook_url" text`);
    await queryRunner.query(`ALTER TABLE "api_keys" ADD "webhook_secret" text`);
    await queryRunner.query(`ALTER TABLE "jobs" ADD "api_key_id" uuid`);
    await queryRunner.query(`ALTER TABLE "models" ALTER COLUMN "files" SET DEFAULT '[]'::jsonb`);
    await queryRunner.query(`ALTER TABLE "jobs" ALTER COLUMN "loras" SET DEFAULT '[]'::jsonb`);
    await queryRunner.query(`ALTER TABLE "images" ALTER COLUMN "parameters" SET DEFAULT '{}'::jsonb`);
    await queryRunner.query(`ALTER TABLE "presets" ALTER COLUMN "loras" SET DEFAULT '[]'::jsonb`);
    await queryRunner.query(`CREATE INDEX "idx_jobs_api_key" ON "jobs"  ("api_key_id") WHERE api_key_id IS NOT NULL`);
    await queryRunner.query(`ALTER TABLE "jobs" ADD CONSTRAINT "FK_5e474e4b086d55f7d6d2cb4ae27" FOREIGN KEY ("api_key_id") REFERENCES "api_keys"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "jobs" DROP CONSTRAINT "FK_5e474e4b086d55f7d6d2cb4ae27"`);
    await queryRunner.query(`DROP INDEX "public"."idx_jobs_api_key"`);
    await queryRunner.query(`ALTER TABLE "presets" ALTER COLUMN "loras" SET DEFAULT '[]'`);
    await queryRunner.query(`ALTER TABLE "images" ALTER COLUMN "parameters" SET DEFAULT '{}'`);
    await queryRunner.query(`ALTER TABLE "jobs" ALTER COLUMN "loras" SET DEFAULT '[]'`);
    await queryRunner.query(`ALTER TABLE "models" ALTER COLUMN "files" SET DEFAULT '[]'`);
    await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "api_key_id"`);
    await queryRunner.query(`ALTER TABLE "api_keys" DROP COLUMN "webhook_secret"`);
    await queryRunner.query(`ALTER TABLE "api_keys" DROP COLUMN "webhook_url"`);
  }
}
