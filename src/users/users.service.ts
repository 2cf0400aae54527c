import { ConflictException, ForbiddenException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { accountGoneException } from '../common/problem';
import { hash } from 'bcrypt';
import { Repository } from 'typeorm';
import type { AuthenticatedUser } from '../common/identity/authenticated-user';
import { passwordMatches } from '../common/identity/password.validator';
import { AUTH_CONFIG, type AuthConfig } from '../config/configuration';
import { isPostgresError, UNIQUE_VIOLATION } from '../database/postgres-errors';
import { SessionsService } from '../sessions/sessions.service';
import { CreateUserDto } from './dto/create-user.dto';
import { User } from './user.entity';

export const EMAIL_TAKEN =
  'An account with this email already exists: log in with POST /login, or register another email.';
export const WRONG_CURRENT_PASSWORD =
  'The current password is wrong (or it has just been changed); nothing was changed.';
export const WRONG_PASSWORD_NOT_DELETED = 'The password is wrong; the account was not deleted.';

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly sessions: SessionsService,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  async register({ email, password }: CreateUserDto): Promise<User> {
    const passwordHash = await hash(password, this.config.bcryptRounds);
    try {
      const user = this.users.create({ email, passwordHash });
      await this.users.insert(user); // fills id and createdAt from RETURNING
      return user;
    } catch (error) {
      // The unique index on lower(email) decides, so two racing sign-ups cannot both win.
      if (isPostgresError(error, UNIQUE_VIOLATION)) {
        throw new ConflictException(EMAIL_TAKEN);
      }
      throw error;
    }
  }

  findById(id: number): Promise<User | null> {
    return this.users.findOne({ where: { id } });
  }

  async getById(id: number): Promise<User> {
    const user = await this.findById(id);
    if (!user) {
      throw new NotFoundException(`There is no user with id ${id}; check the id (GET /users/me gives yours).`);
    }
    return user;
  }

  /** The user with this e-mail (any case), including the password hash, for login only. */
  findByEmailWithPasswordHash(email: string): Promise<User | null> {
    return (
      this.users
        .createQueryBuilder('user')
        .addSelect('user.passwordHash')
        // Lower-cased here as the login limits key it, so that no other spelling of an address counts apart.
        .where('lower(user.email) = :email', { email: email.trim().toLowerCase() })
        .getOne()
    );
  }

  /**
   * Sets a new password and ends every other session of the user, in one transaction.
   * The write is conditional on the credential version the current password was checked
   * against: of two concurrent changes with the same current password, one wins and the
   * other finds the version moved on (403), so no new password is silently lost.
   */
  async changePassword(user: AuthenticatedUser, currentPassword: string, newPassword: string): Promise<void> {
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
    });
  }

  /**
   * Deletes the account; its posts, votes and sessions go with it (ON DELETE CASCADE).
   * Conditional like a password change: a password changed meanwhile no longer confirms it.
   */
  async deleteAccount(user: AuthenticatedUser, password: string): Promise<void> {
    const version = await this.assertPassword(user.id, password, WRONG_PASSWORD_NOT_DELETED);
    const deleted = await this.users.delete({ id: user.id, credentialVersion: version });
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
