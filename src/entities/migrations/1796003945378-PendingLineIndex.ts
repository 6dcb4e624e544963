import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The line as a small index of its own: a new job's place in line counts the
 * PENDING entries ahead of it here instead of reading every waiting job's row
 * (docs/architecture.md, "The request path").
 */
export class PendingLineIndex1796003945378 implements MigrationInterface {
  name = 'PendingLineIndex1796003945378';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "idx_jobs_pending_order" ON "jobs" ("priority", "created_at") WHERE status = 'PENDING'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."idx_jobs_pending_order"`);
  }
}
