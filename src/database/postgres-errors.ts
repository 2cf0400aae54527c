import { QueryFailedError } from 'typeorm';

/** The SQLSTATE codes the services turn into client answers (unique violations: 409). */
export const UNIQUE_VIOLATION = '23505';
/** A row that names one that is gone (e.g. an account deleted during the request). */
export const FOREIGN_KEY_VIOLATION = '23503';

/** Whether a query failed with this SQLSTATE (as TypeORM wraps it, or straight from pg). */
export function isPostgresError(error: unknown, code: string): boolean {
  const driverError: unknown = error instanceof QueryFailedError ? error.driverError : error;
  return (driverError as { code?: unknown } | null)?.code === code;
}
