import { MigrationInterface, QueryRunner } from 'typeorm';

/** Accounts created by single sign-on have no password. (The generator's jsonb DEFAULT statements are TypeORM's perpetual diff, left out.) */
export class SingleSignOnAccounts1795965598562 implements MigrationInterface {
  name = 'SingleSignOnAccounts1795965598562';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ALTER COLUMN "password_hash" DROP NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ALTER COLUMN "password_hash" SET NOT NULL`);
  }
}
