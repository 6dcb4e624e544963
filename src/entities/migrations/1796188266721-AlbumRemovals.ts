import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Images an album's EDITOR removed from it, and who (album-removal.entity.ts): they may add such an image back
 * while the album's owner may see it (docs/security.md, "Favourites"). Removals made before this migration were
 * not recorded: those images are added back by the owner, as before.
 */
export class AlbumRemovals1796188266721 implements MigrationInterface {
  name = 'AlbumRemovals1796188266721';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "album_removals" ("album_id" uuid NOT NULL, "image_id" uuid NOT NULL, "removed_by" uuid NOT NULL, "removed_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_80f9ac2c1d94453fb3c503ff449" PRIMARY KEY ("album_id", "image_id"))`);
    await queryRunner.query(`ALTER TABLE "album_removals" ADD CONSTRAINT "FK_14b46615f2f2c2aa96e2d1bc1f1" FOREIGN KEY ("album_id") REFERENCES "albums"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "album_removals" ADD CONSTRAINT "FK_cb00f8f8c77fa28ebc948914cb4" FOREIGN KEY ("image_id") REFERENCES "images"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "album_removals" ADD CONSTRAINT "FK_17bb0e6360774c6c7e44fb83951" FOREIGN KEY ("removed_by") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "album_removals" DROP CONSTRAINT "FK_17bb0e6360774c6c7e44fb83951"`);
    await queryRunner.query(`ALTER TABLE "album_removals" DROP CONSTRAINT "FK_cb00f8f8c77fa28ebc948914cb4"`);
    await queryRunner.query(`ALTER TABLE "album_removals" DROP CONSTRAINT "FK_14b46615f2f2c2aa96e2d1bc1f1"`);
    await queryRunner.query(`DROP TABLE "album_removals"`);
  }
}
