import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * NOTIFY `session_changes` with the user's id, at commit, whenever something that the
 * per-request session check reads changes: a session is revoked, or the user's e-mail,
 * username, role, e-mail verification, credentials or disabling change, or the user is
 * deleted (which deletes the sessions). Every instance listens and forgets that user's
 * cached sessions (src/sessions/session-cache.ts). Triggers rather than calls in the
 * code: no writer, today's or tomorrow's, can forget to tell the other instances.
 * NOTIFY sends nothing for a transaction that rolls back, and one message per distinct
 * payload per transaction.
 */
export class SessionChangeNotifications1765100000000 implements MigrationInterface {
  name = 'SessionChangeNotifications1765100000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE FUNCTION notify_session_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('session_changes', OLD.user_id::text);
        RETURN NULL;
      END $$`);
    await queryRunner.query(`CREATE FUNCTION notify_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('session_changes', OLD.id::text);
        RETURN NULL;
      END $$`);
    await queryRunner.query(`CREATE TRIGGER "sessions_notify_revoked" AFTER UPDATE OF revoked_at ON "sessions"
      FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at) EXECUTE FUNCTION notify_session_revoked()`);
    await queryRunner.query(`CREATE TRIGGER "users_notify_changed" AFTER UPDATE OF
        email, username, role, email_verified_at, credential_version, disabled_at ON "users"
      FOR EACH ROW EXECUTE FUNCTION notify_user_changed()`);
    await queryRunner.query(`CREATE TRIGGER "users_notify_deleted" AFTER DELETE ON "users"
      FOR EACH ROW EXECUTE FUNCTION notify_user_changed()`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "users_notify_deleted" ON "users"`);
    await queryRunner.query(`DROP TRIGGER "users_notify_changed" ON "users"`);
    await queryRunner.query(`DROP TRIGGER "sessions_notify_revoked" ON "sessions"`);
    await queryRunner.query(`DROP FUNCTION notify_user_changed()`);
    await queryRunner.query(`DROP FUNCTION notify_session_revoked()`);
  }
}
