import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ends of jobs and training runs owed since an outage (services/owed-ends.ts): written only when an end
 * could not be told, removed once it is, so that another process tells it if the one that owed it dies.
 */
export class OwedEnds1796150000000 implements MigrationInterface {
  name = 'OwedEnds1796150000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "owed_ends" ("kind" character varying(16) NOT NULL, "id" uuid NOT NULL, "owed_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_owed_ends" PRIMARY KEY ("kind", "id"))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "owed_ends"`);
  }
}
