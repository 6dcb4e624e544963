import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The albums whose chosen cover is an image being deleted, found by an index
 * of their own instead of a read of every album (DataLifecycle clears them).
 */
export class AlbumCoverIndex1796140000000 implements MigrationInterface {
  name = 'AlbumCoverIndex1796140000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "idx_albums_cover_image" ON "albums" ("cover_image_id") WHERE cover_image_id IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."idx_albums_cover_image"`);
  }
}
