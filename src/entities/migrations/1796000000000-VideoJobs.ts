import { MigrationInterface, QueryRunner } from 'typeorm';

/** VIDEO jobs (docs/video.md): the job's clip settings and result, video seconds in usage, and the tiers' video limits. */
export class VideoJobs1796000000000 implements MigrationInterface {
  name = 'VideoJobs1796000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TYPE "public"."job_kind" AS ENUM('IMAGE', 'VIDEO')`);
    await queryRunner.query(`ALTER TABLE "jobs" ADD "kind" "public"."job_kind" NOT NULL DEFAULT 'IMAGE'`);
    await queryRunner.query(`ALTER TABLE "jobs" ADD "video_frames" integer`);
    await queryRunner.query(`ALTER TABLE "jobs" ADD "video_fps" integer`);
    await queryRunner.query(`ALTER TABLE "jobs" ADD "end_prompt" text`);
    await queryRunner.query(`ALTER TABLE "jobs" ADD "source_image_id" uuid`);
    await queryRunner.query(`ALTER TABLE "jobs" ADD "video" jsonb`);
    await queryRunner.query(`ALTER TABLE "usage_records" ADD "video_seconds" integer NOT NULL DEFAULT 0`);
    await queryRunner.query(`ALTER TABLE "tier_policies" ADD "video_seconds_per_day" integer`);
    await queryRunner.query(`ALTER TABLE "tier_policies" ADD "max_video_seconds" integer NOT NULL DEFAULT 5`);
    await queryRunner.query(`ALTER TABLE "tier_policies" ADD "max_video_fps" integer NOT NULL DEFAULT 30`);
    await queryRunner.query(`ALTER TABLE "tier_policies" ADD "max_video_side" integer NOT NULL DEFAULT 256`);
    // The seeded tiers' video limits (src/database/reference-data.ts); a fresh database gets them from the seed.
    await queryRunner.query(`UPDATE "tier_policies" SET "video_seconds_per_day" = 30 WHERE "tier" = 'FREE'`);
    await queryRunner.query(`UPDATE "tier_policies" SET "video_seconds_per_day" = 300, "max_video_seconds" = 15, "max_video_side" = 512 WHERE "tier" = 'PRO'`);
    await queryRunner.query(`UPDATE "tier_policies" SET "max_video_seconds" = 60, "max_video_fps" = 60, "max_video_side" = 768 WHERE "tier" = 'ENTERPRISE'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const column of ['max_video_side', 'max_video_fps', 'max_video_seconds', 'video_seconds_per_day']) {
      await queryRunner.query(`ALTER TABLE "tier_policies" DROP COLUMN "${column}"`);
    }
    await queryRunner.query(`ALTER TABLE "usage_records" DROP COLUMN "video_seconds"`);
    for (const column of ['video', 'source_image_id', 'end_prompt', 'video_fps', 'video_frames', 'kind']) {
      await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "${column}"`);
    }
    await queryRunner.query(`DROP TYPE "public"."job_kind"`);
  }
}
