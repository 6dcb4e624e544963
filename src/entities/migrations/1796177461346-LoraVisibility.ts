import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * LoRAs get a visibility (docs/security.md, "Private LoRAs"). Every LoRA that
 * exists already was published to everyone, and stays PUBLIC: the column is
 * added with that default, which fills the existing rows, and only then takes
 * the entity's PRIVATE default for rows written from now on.
 * (`migration:generate` also proposed re-setting five jsonb defaults that
 * PGlite reports in another spelling; they are unchanged and left out.)
 */
export class LoraVisibility1796177461346 implements MigrationInterface {
  name = 'LoraVisibility1796177461346';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TYPE "public"."lora_visibility" AS ENUM('PRIVATE', 'PUBLIC')`);
    await queryRunner.query(`ALTER TABLE "loras" ADD "visibility" "public"."lora_visibility" NOT NULL DEFAULT 'PUBLIC'`);
    await queryRunner.query(`ALTER TABLE "loras" ALTER COLUMN "visibility" SET DEFAULT 'PRIVATE'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "loras" DROP COLUMN "visibility"`);
    await queryRunner.query(`DROP TYPE "public"."lora_visibility"`);
  }
}
