import { MigrationInterface, QueryRunner } from 'typeorm';

export class AuditEvents1795965890914 implements MigrationInterface {
  name = 'AuditEvents1795965890914';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "audit_events" ("id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL, "kind" text NOT NULL, "actor_id" uuid, "target_user_id" uuid, "address" text, "user_agent" text, "reason" text, "details" jsonb NOT NULL, CONSTRAINT "PK_910f64d901a5c3e9878f0d4a407" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "idx_audit_events_target" ON "audit_events"  ("target_user_id") `);
    await queryRunner.query(`CREATE INDEX "idx_audit_events_actor" ON "audit_events"  ("actor_id") `);
    await queryRunner.query(`CREATE INDEX "idx_audit_events_at" ON "audit_events"  ("at") `);
    // Written by hand: the log is append-only, so the database itself refuses to rewrite history.
    await queryRunner.query(`CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$`);
    await queryRunner.query(`CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON "audit_events" FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER audit_events_no_update ON "audit_events"`);
    await queryRunner.query(`DROP FUNCTION audit_events_append_only()`);
    await queryRunner.query(`DROP INDEX "public"."idx_audit_events_at"`);
    await queryRunner.query(`DROP INDEX "public"."idx_audit_events_actor"`);
    await queryRunner.query(`DROP INDEX "public"."idx_audit_events_target"`);
    await queryRunner.query(`DROP TABLE "audit_events"`);
  }
}
