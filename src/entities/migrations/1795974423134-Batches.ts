import { MigrationInterface, QueryRunner } from 'typeorm';

export class Batches1795974423134 implements MigrationInterface {
  name = 'Batches1795974423134';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TYPE "public"."batch_kind" AS ENUM('PROMPTS', 'MATRIX')`);
    await queryRunner.query(`CREATE TYPE "public"."batch_status" AS ENUM('RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED')`);
    await queryRunner.query(`CREATE TABLE "batches" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "owner_id" uuid NOT NULL, "session_id" uuid, "name" text NOT NULL, "kind" "public"."batch_kind" NOT NULL, "total" integer NOT NULL, "completed" integer NOT NULL DEFAULT '0', "failed" integer NOT NULL DEFAULT '0', "cancelled" integer NOT NULL DEFAULT '0', "status" "public"."batch_status" NOT NULL DEFAULT 'RUNNING', "axes" jsonb, "grid_key" text, "grid_width" integer, "grid_height" integer, "idempotency_key" text, "cancel_requested_at" TIMESTAMP WITH TIME ZONE, "completed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_55e7ff646e969b61d37eea5be7a" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "idx_batches_owner_created" ON "batches"  ("owner_id", "created_at") `);
    await queryRunner.query(`ALTER TABLE "jobs" ADD "batch_id" uuid`);
    await queryRunner.query(`ALTER TABLE "jobs" ADD "batch_index" integer`);
    await queryRunner.query(`ALTER TABLE "tier_policies" ADD "batches_per_hour" integer NOT NULL DEFAULT '5'`);
    // Written by hand: the paid tiers start with the allowances of src/database/reference-data.ts.
    await queryRunner.query(`UPDATE "tier_policies" SET "batches_per_hour" = 30 WHERE "tier" = 'PRO'`);
    await queryRunner.query(`UPDATE "tier_policies" SET "batches_per_hour" = 120 WHERE "tier" = 'ENTERPRISE'`);
    await queryRunner.query(`CREATE INDEX "idx_jobs_batch" ON "jobs"  ("batch_id", "batch_index") WHERE batch_id IS NOT NULL`);
    await queryRunner.query(`ALTER TABLE "batches" ADD CONSTRAINT "FK_7b1ba5e79c27dbc3a3a687dbbb1" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "batches" ADD CONSTRAINT "FK_271089b0c13ec85177e2fbb9606" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "jobs" ADD CONSTRAINT "FK_4dd6ab360824a257554e7a14c9e" FOREIGN KEY ("batch_id") REFERENCES "batches"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "jobs" DROP CONSTRAINT "FK_4dd6ab360824a257554e7a14c9e"`);
    await queryRunner.query(`ALTER TABLE "batches" DROP CONSTRAINT "FK_271089b0c13ec85177e2fbb9606"`);
    await queryRunner.query(`ALTER TABLE "batches" DROP CONSTRAINT "FK_7b1ba5e79c27dbc3a3a687dbbb1"`);
    await queryRunner.query(`DROP INDEX "public"."idx_jobs_batch"`);
    await queryRunner.query(`ALTER TABLE "tier_policies" DROP COLUMN "batches_per_hour"`);
    await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "batch_index"`);
    await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "batch_id"`);
    await queryRunner.query(`DROP INDEX "public"."idx_batches_owner_created"`);
    await queryRunner.query(`DROP TABLE "batches"`);
    await queryRunner.query(`DROP TYPE "public"."batch_status"`);
    await queryRunner.query(`DROP TYPE "public"."batch_kind"`);
  }
}
