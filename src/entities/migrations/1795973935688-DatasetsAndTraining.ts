import { MigrationInterface, QueryRunner } from 'typeorm';

export class DatasetsAndTraining1795973935688 implements MigrationInterface {
  name = 'DatasetsAndTraining1795973935688';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "datasets" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "owner_id" uuid NOT NULL, "name" text NOT NULL, "session_id" uuid, CONSTRAINT "PK_1bf831e43c559a240303e23d038" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "idx_datasets_owner_created" ON "datasets"  ("owner_id", "created_at") `);
    await queryRunner.query(`CREATE TABLE "dataset_images" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "dataset_id" uuid NOT NULL, "caption" text NOT NULL DEFAULT '', "storage_key" text NOT NULL, "format" text NOT NULL, "width" integer NOT NULL, "height" integer NOT NULL, "bytes" integer NOT NULL, "sha256" text NOT NULL, CONSTRAINT "PK_7c6795936ef7db3c63e0763c5fc" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "idx_dataset_images_dataset" ON "dataset_images"  ("dataset_id", "created_at") `);
    await queryRunner.query(`CREATE TYPE "public"."training_status" AS ENUM('QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED')`);
    await queryRunner.query(`CREATE TABLE "training_runs" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "owner_id" uuid NOT NULL, "dataset_id" uuid, "base_model_id" uuid NOT NULL, "lora_name" text NOT NULL, "status" "public"."training_status" NOT NULL DEFAULT 'QUEUED', "config" jsonb NOT NULL, "step" integer NOT NULL DEFAULT '0', "loss" real, "checkpoint_key" text, "checkpoint_step" integer, "dataset_hash" text, "lora_id" uuid, "error" jsonb, "attempts" integer NOT NULL DEFAULT '0', "started_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_3f5056858e48ed5e97b4faaa05a" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "idx_training_runs_status" ON "training_runs"  ("status") `);
    await queryRunner.query(`CREATE INDEX "idx_training_runs_owner_created" ON "training_runs"  ("owner_id", "created_at") `);
    await queryRunner.query(`ALTER TABLE "loras" ADD "training_run_id" uuid`);
    await queryRunner.query(`ALTER TABLE "loras" ADD "metrics" jsonb`);
    await queryRunner.query(`ALTER TABLE "tier_policies" ADD "training_runs_per_day" integer NOT NULL DEFAULT '0'`);
    await queryRunner.query(`ALTER TABLE "tier_policies" ADD "max_concurrent_training_runs" integer NOT NULL DEFAULT '0'`);
    await queryRunner.query(`ALTER TABLE "tier_policies" ADD "max_training_steps" integer NOT NULL DEFAULT '0'`);
    await queryRunner.query(`ALTER TABLE "tier_policies" ADD "max_dataset_images" integer NOT NULL DEFAULT '20'`);
    // Written by hand: the paid tiers start with the training limits of src/database/reference-data.ts.
    await queryRunner.query(`UPDATE "tier_policies" SET "training_runs_per_day" = 10, "max_concurrent_training_runs" = 1, "max_training_steps" = 2000, "max_dataset_images" = 100 WHERE "tier" = 'PRO'`);
    await queryRunner.query(`UPDATE "tier_policies" SET "training_runs_per_day" = 100, "max_concurrent_training_runs" = 4, "max_training_steps" = 20000, "max_dataset_images" = 1000 WHERE "tier" = 'ENTERPRISE'`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_loras_training_run" ON "loras"  ("training_run_id") WHERE training_run_id IS NOT NULL`);
    await queryRunner.query(`ALTER TABLE "datasets" ADD CONSTRAINT "FK_f8dd82291f006bfe0d29794a959" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "datasets" ADD CONSTRAINT "FK_b16a5829f7bcab85489ed536ab8" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "dataset_images" ADD CONSTRAINT "FK_bd9d402b3ddd20af7c6b240d962" FOREIGN KEY ("dataset_id") REFERENCES "datasets"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "training_runs" ADD CONSTRAINT "FK_94258de36715023922bc18abde5" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "training_runs" ADD CONSTRAINT "FK_26a46fcb3fbc52bca25f2218dcf" FOREIGN KEY ("dataset_id") REFERENCES "datasets"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "training_runs" ADD CONSTRAINT "FK_04ab2b4e4579282b91efa5b9bda" FOREIGN KEY ("base_model_id") REFERENCES "models"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "training_runs" DROP CONSTRAINT "FK_04ab2b4e4579282b91efa5b9bda"`);
    await queryRunner.query(`ALTER TABLE "training_runs" DROP CONSTRAINT "FK_26a46fcb3fbc52bca25f2218dcf"`);
    await queryRunner.query(`ALTER TABLE "training_runs" DROP CONSTRAINT "FK_94258de36715023922bc18abde5"`);
    await queryRunner.query(`ALTER TABLE "dataset_images" DROP CONSTRAINT "FK_bd9d402b3ddd20af7c6b240d962"`);
    await queryRunner.query(`ALTER TABLE "datasets" DROP CONSTRAINT "FK_b16a5829f7bcab85489ed536ab8"`);
    await queryRunner.query(`ALTER TABLE "datasets" DROP CONSTRAINT "FK_f8dd82291f006bfe0d29794a959"`);
    await queryRunner.query(`DROP INDEX "public"."uq_loras_training_run"`);
    await queryRunner.query(`ALTER TABLE "tier_policies" DROP COLUMN "max_dataset_images"`);
    await queryRunner.query(`ALTER TABLE "tier_policies" DROP COLUMN "max_training_steps"`);
    await queryRunner.query(`ALTER TABLE "tier_policies" DROP COLUMN "max_concurrent_training_runs"`);
    await queryRunner.query(`ALTER TABLE "tier_policies" DROP COLUMN "training_runs_per_day"`);
    await queryRunner.query(`ALTER TABLE "loras" DROP COLUMN "metrics"`);
    await queryRunner.query(`ALTER TABLE "loras" DROP COLUMN "training_run_id"`);
    await queryRunner.query(`DROP INDEX "public"."idx_training_runs_owner_created"`);
    await queryRunner.query(`DROP INDEX "public"."idx_training_runs_status"`);
    await queryRunner.query(`DROP TABLE "training_runs"`);
    await queryRunner.query(`DROP TYPE "public"."training_status"`);
    await queryRunner.query(`DROP INDEX "public"."idx_dataset_images_dataset"`);
    await queryRunner.query(`DROP TABLE "dataset_images"`);
    await queryRunner.query(`DROP INDEX "public"."idx_datasets_owner_created"`);
    await queryRunner.query(`DROP TABLE "datasets"`);
  }
}
