import { MigrationInterface, QueryRunner } from 'typeorm';

export class PendingUploadQuota1795966964444 implements MigrationInterface {
  name = 'PendingUploadQuota1795966964444';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "tier_policies" ADD "pending_upload_mb" integer NOT NULL DEFAULT '64'`);
    // Written by hand: the paid tiers start with the allowances of src/database/reference-data.ts.
    await queryRunner.query(`UPDATE "tier_policies" SET "pending_upload_mb" = 1024 WHERE "tier" = 'PRO'`);
    await queryRunner.query(`UPDATE "tier_policies" SET "pending_upload_mb" = 8192 WHERE "tier" = 'ENTERPRISE'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "tier_policies" DROP COLUMN "pending_upload_mb"`);
  }
}
