import { MigrationInterface, QueryRunner } from 'typeorm';

/** Retention per tier, and usage rows that outlive a deleted account (anonymised). */
export class DataLifecycle1795974172386 implements MigrationInterface {
  name = 'DataLifecycle1795974172386';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "tier_policies" ADD "retention_days" integer`);
    // Written by hand: the defaults of src/database/reference-data.ts (ENTERPRISE keeps everything).
    await queryRunner.query(`UPDATE "tier_policies" SET "retention_days" = 30 WHERE "tier" = 'FREE'`);
    await queryRunner.query(`UPDATE "tier_policies" SET "retention_days" = 365 WHERE "tier" = 'PRO'`);
    await queryRunner.query(`ALTER TABLE "usage_records" DROP CONSTRAINT "FK_2930a10f82d7773e3ac09e78dd8"`);
    await queryRunner.query(`ALTER TABLE "usage_records" ALTER COLUMN "user_id" DROP NOT NULL`);
    await queryRunner.query(`ALTER TABLE "usage_records" ADD CONSTRAINT "FK_2930a10f82d7773e3ac09e78dd8" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "usage_records" DROP CONSTRAINT "FK_2930a10f82d7773e3ac09e78dd8"`);
    await queryRunner.query(`DELETE FROM "usage_records" WHERE "user_id" IS NULL`);
    await queryRunner.query(`ALTER TABLE "usage_records" ALTER COLUMN "user_id" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "usage_records" ADD CONSTRAINT "FK_2930a10f82d7773e3ac09e78dd8" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "tier_policies" DROP COLUMN "retention_days"`);
  }
}
