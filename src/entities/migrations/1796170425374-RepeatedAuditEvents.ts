import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * audit_events stays append-only but for one change: the `count` in the
 * details of a coalesced event (a refused credential repeated within a
 * minute, docs/security.md "Audit log") may rise, and nothing else of the
 * row may change with it. Only the trigger's function changes; the table
 * and the entity do not, so there was nothing for migration:generate to find.
 */
export class RepeatedAuditEvents1796170425374 implements MigrationInterface {
  name = 'RepeatedAuditEvents1796170425374';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  IF (NEW.id, NEW.at, NEW.kind, NEW.actor_id, NEW.target_user_id, NEW.address, NEW.user_agent, NEW.reason)
       IS NOT DISTINCT FROM (OLD.id, OLD.at, OLD.kind, OLD.actor_id, OLD.target_user_id, OLD.address, OLD.user_agent, OLD.reason)
     AND jsonb_typeof(OLD.details -> 'count') = 'number' AND jsonb_typeof(NEW.details -> 'count') = 'number'
     AND NEW.details - 'count' = OLD.details - 'count'
     AND (NEW.details ->> 'count')::numeric > (OLD.details ->> 'count')::numeric THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit_events is append-only';
END $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$`);
  }
}
