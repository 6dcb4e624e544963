import { MigrationInterface, QueryRunner } from 'typeorm';

/** The generation every sign-in token names: a password change moves it on, revoking the tokens issued before. */
export class TokenGeneration1796141000000 implements MigrationInterface {
  name = 'TokenGeneration1796141000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ADD "token_generation" integer NOT NULL DEFAULT '0'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "token_generation"`);
  }
}
