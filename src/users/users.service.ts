import {
  ForbiddenException,
  HttpStatus,
  Inject,
  Injectable,
  NotFoundException,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { accountGoneException, type FieldError, ProblemException, ValidationProblemException } from '../common/problem';
import { hash } from 'bcrypt';
import { Not, Repository } from 'typeorm';
import { EmailVerificationService } from '../accounts/email-verification.service';
import { type AuthenticatedUser, type ClientInfo, originOf } from '../common/identity/authenticated-user';
import { ActivityService } from '../activity/activity.service';
import { passwordMatches } from '../common/identity/password.validator';
import { AUTH_CONFIG, type AuthConfig } from '../config/configuration';
import { isPostgresError, UNIQUE_VIOLATION } from '../database/postgres-errors';
import { Sql } from '../database/sql';
import { SessionsService } from '../sessions/sessions.service';
import { CreateUserDto } from './dto/create-user.dto';
import type { UpdateMeDto } from './dto/update-me.dto';
import { User } from './user.entity';
import { findUserById, findUserByUsername, type UserViewRow } from './users.queries';

export const EMAIL_TAKEN =
  'An account with this email already exists: log in with POST /login, or register another email.';
export const TAKEN_DETAIL = 'Another account already uses this: see "errors" for which field, and choose another.';
export const EMAIL_TAKEN_MESSAGE = 'email is already used by another account';
const USERNAME_TAKEN_MESSAGE = 'username is already taken';
export const WRONG_CURRENT_PASSWORD =
  'The current password is wrong (or it has just been changed); nothing was changed.';
export const WRONG_PASSWORD_NOT_DELETED = 'The password is wrong; the account was not deleted.';

@Injectable()
export class UsersService implements OnApplicationBootstrap {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly sessions: SessionsService,
    private readonly verification: EmailVerificationService,
    private readonly activity: ActivityService,
    private readonly sql: Sql,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  /**
   * A new account and, in the same transaction, the token and the mail that verify its
   * address: the mail exists exactly when the account does.
   */
  async register({ email, username, password }: CreateUserDto, client: ClientInfo): Promise<User> {
    const passwordHash = await hash(password, this.config.bcryptRounds);
    const role = this.config.adminEmails.includes(email) ? 'admin' : 'user';
    const user = this.users.create({ email, username: username ?? null, passwordHash, role });
    await this.whileUnique({ email, username }, () =>
      this.users.manager.transaction(async (manager) => {
        await manager.insert(User, user); // fills id, createdAt and the defaults from RETURNING
        await this.verification.sendVerification(manager, user.id, user.email, originOf(client));
      }),
    );
    this.verification.mailNow();
    // No token yet, so no write of the caller's to record afterwards: the new user's first reads must find them.
    await this.sql.recordWrite(user.id);
    return user;
  }

  /** ADMIN_EMAILS: the accounts of these addresses are admins from this start on. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.config.adminEmails.length > 0) {
      await this.users
        .createQueryBuilder()
        .update(User)
        .set({ role: 'admin' })
        .where('lower(email) IN (:...emails)', { emails: this.config.adminEmails })
        .andWhere("role <> 'admin'")
        .execute();
    }
  }

  findById(id: number): Promise<User | null> {
    return this.users.findOne({ where: { id } });
  }

  /**
   * `GET /users/{id}`: any user by id or username (lower-cased here). May be a moment stale
   * (a replica's), but never misses the viewer's own writes.
   */
  async lookUp(viewerId: number, reference: { id: number } | { username: string }): Promise<UserViewRow> {
    const statement =
      'id' in reference ? findUserById(reference.id) : findUserByUsername(reference.username.toLowerCase());
    const [user] = await this.sql.read<UserViewRow>(statement, { readerId: viewerId });
    if (user) {
      return user;
    }
    if ('id' in reference) {
      throw new NotFoundException(
        `There is no user with id ${reference.id}; check the id (GET /users/me gives yours).`,
      );
    }
    return this.noSuchUsername(reference.username);
  }

  noSuchUsername(username: string): never {
    throw new NotFoundException(
      `There is no user with the username ${JSON.stringify(username.slice(0, 40))}; check the spelling (GET /users/me gives yours).`,
    );
  }

  /**
   * The user a login names, including the password hash: by e-mail when the name has an
   * "@", by username otherwise, in any case.
   */
  findForLogin(login: string): Promise<User | null> {
    const name = login.trim().toLowerCase();
    const query = this.users.createQueryBuilder('user').addSelect('user.passwordHash');
    return (
      name.includes('@')
        ? query.where('lower(user.email) = :name', { name })
        : query.where('user.username = :name', { name })
    ).getOne();
  }

  /**
   * `PATCH /users/me`: a new username and/or e-mail address. A new address needs the
   * current password, counts as unverified, spends the tokens sent to the old one, and
   * gets a verification mail, all in one transaction.
   */
  async update(caller: AuthenticatedUser, changes: UpdateMeDto, client: ClientInfo): Promise<User> {
    const origin = originOf(client, caller.sessionId);
    const email = changes.email !== undefined && changes.email !== caller.email ? changes.email : undefined;
    let version: number | undefined;
    if (email !== undefined || changes.current_password !== undefined) {
      if (changes.current_password === undefined) {
        throw new ValidationProblemException([
          { field: 'current_password', message: 'current_password is required to change the e-mail address' },
        ]);
      }
      version = await this.assertPassword(caller.id, changes.current_password, WRONG_CURRENT_PASSWORD);
    }
    const username = changes.username;
    await this.whileUnique({ email, username, exceptId: caller.id }, () =>
      this.users.manager.transaction(async (manager) => {
        const set: Partial<User> = {};
        if (username !== undefined) {
          set.username = username;
        }
        if (email !== undefined) {
          Object.assign(set, { email, emailVerifiedAt: null });
        }
        if (Object.keys(set).length > 0) {
          const changed = await manager.update(
            User,
            version === undefined ? { id: caller.id } : { id: caller.id, credentialVersion: version },
            set,
          );
          if (!changed.affected) {
            throw (await manager.existsBy(User, { id: caller.id }))
              ? new ForbiddenException(WRONG_CURRENT_PASSWORD)
              : accountGoneException();
          }
        }
        if (username !== undefined && username !== caller.username) {
          await this.activity.record(manager, caller.id, 'username_changed', origin);
        }
        if (email !== undefined) {
          await this.activity.record(manager, caller.id, 'email_changed', origin);
          await this.verification.addressChanged(manager, caller.id, email, origin);
        }
      }),
    );
    this.sessions.forgetCached(caller.id);
    if (email !== undefined) {
      this.verification.mailNow();
    }
    const user = await this.findById(caller.id);
    if (!user) {
      throw accountGoneException();
    }
    return user;
  }

  /**
   * Runs a write that may break the uniqueness of the e-mail or the username; the unique
   * indexes decide, so two racing requests cannot both win, and the loser's 409 names
   * each field that is taken.
   */
  private async whileUnique(
    fields: { email?: string; username?: string | null; exceptId?: number },
    write: () => Promise<void>,
  ) {
    try {
      await write();
    } catch (error) {
      if (!isPostgresError(error, UNIQUE_VIOLATION)) {
        throw error;
      }
      throw new ProblemException(
        HttpStatus.CONFLICT,
        fields.username ? TAKEN_DETAIL : EMAIL_TAKEN,
        {},
        {
          errors: await this.takenFields(fields, error),
        },
      );
    }
  }

  private async takenFields(
    { email, username, exceptId = 0 }: { email?: string; username?: string | null; exceptId?: number },
    error: unknown,
  ): Promise<FieldError[]> {
    const errors: FieldError[] = [];
    // Only another account's: the caller's own username is not "taken" by a change of e-mail.
    if (
      email !== undefined &&
      (await this.users
        .createQueryBuilder('user')
        .where('lower(user.email) = :email', { email })
        .andWhere('user.id <> :exceptId', { exceptId })
        .getExists())
    ) {
      errors.push({ field: 'email', message: EMAIL_TAKEN_MESSAGE });
    }
    if (username && (await this.users.existsBy({ username, id: Not(exceptId) }))) {
      errors.push({ field: 'username', message: USERNAME_TAKEN_MESSAGE });
    }
    if (errors.length === 0) {
      // The other account went away meanwhile: the index that refused the write still names the field.
      const constraint = String((error as { driverError?: { constraint?: string } }).driverError?.constraint ?? '');
      errors.push(
        constraint.includes('username')
          ? { field: 'username', message: USERNAME_TAKEN_MESSAGE }
          : { field: 'email', message: EMAIL_TAKEN_MESSAGE },
      );
    }
    return errors;
  }

  /**
   * Sets a new password and ends every other session of the user, in one transaction.
   * The write is conditional on the credential version the current password was checked
   * against: of two concurrent changes with the same current password, one wins and the
   * other finds the version moved on (403), so no new password is silently lost.
   */
  async changePassword(
    user: AuthenticatedUser,
    currentPassword: string,
    newPassword: string,
    client: ClientInfo,
  ): Promise<void> {
    const version = await this.assertPassword(user.id, currentPassword, WRONG_CURRENT_PASSWORD);
    const passwordHash = await hash(newPassword, this.config.bcryptRounds);
    await this.users.manager.transaction(async (manager) => {
      const changed = await manager.update(
        User,
        { id: user.id, credentialVersion: version },
        { passwordHash, credentialVersion: () => 'credential_version + 1' },
      );
      if (!changed.affected) {
        throw (await manager.existsBy(User, { id: user.id }))
          ? new ForbiddenException(WRONG_CURRENT_PASSWORD)
          : accountGoneException();
      }
      await this.sessions.revokeAllExcept(user.id, user.sessionId ?? 0, manager);
      await this.verification.passwordChanged(manager, user.id);
      await this.activity.record(manager, user.id, 'password_changed', originOf(client, user.sessionId));
    });
    this.sessions.forgetCached(user.id);
  }

  /**
   * Deletes the account; its posts, votes and sessions go with it (ON DELETE CASCADE).
   * Conditional like a password change: a password changed meanwhile no longer confirms it.
   */
  async deleteAccount(user: AuthenticatedUser, password: string): Promise<void> {
    const version = await this.assertPassword(user.id, password, WRONG_PASSWORD_NOT_DELETED);
    const deleted = await this.users.delete({ id: user.id, credentialVersion: version });
    this.sessions.forgetCached(user.id);
    if (!deleted.affected) {
      throw (await this.users.existsBy({ id: user.id }))
        ? new ForbiddenException(WRONG_PASSWORD_NOT_DELETED)
        : accountGoneException();
    }
  }

  /** Checks the user's password; returns the credential version it was checked against. */
  private async assertPassword(userId: number, password: string, detail: string): Promise<number> {
    const user = await this.users.findOne({
      where: { id: userId },
      select: { id: true, passwordHash: true, credentialVersion: true },
    });
    if (!user) {
      throw accountGoneException();
    }
    if (!(await passwordMatches(password, user.passwordHash))) {
      throw new ForbiddenException(detail);
    }
    return user.credentialVersion;
  }
}
