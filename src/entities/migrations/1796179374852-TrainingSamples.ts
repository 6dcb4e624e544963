import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A training run's sample images get rows of their own (training-sample.entity.ts): until now they were named
 * only by the run's SAMPLE events in Redis, so the run page's gallery lost them when the events expired or the
 * installation moved, and `atelier export` left their files behind (docs/operations.md, "Moving an
 * installation"). Runs sampled before this migration keep what their events still hold; nothing is
 * backfilled (the events are in Redis, out of a migration's reach).
 */
export class TrainingSamples1796179374852 implements MigrationInterface {
  name = 'TrainingSamples1796179374852';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "training_samples" ("run_id" uuid NOT NULL, "step" integer NOT NULL, "position" integer NOT NULL, "prompt" text NOT NULL, "storage_key" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_b42ba000182b6351c14c959a71d" PRIMARY KEY ("run_id", "step", "position"))`);
    await queryRunner.query(`ALTER TABLE "training_samples" ADD CONSTRAINT "FK_457c93eea74f496242a43bc49cd" FOREIGN KEY ("run_id") REFERENCES "training_runs"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "training_samples" DROP CONSTRAINT "FK_457c93eea74f496242a43bc49cd"`);
    await queryRunner.query(`DROP TABLE "training_samples"`);
  }
}
