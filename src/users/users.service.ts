import { ConflictException, ForbiddenException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { compare, hash } from 'bcrypt';
import { Repository } from 'typeorm';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { PASSWORD_MAX_BYTES, passwordByteLength } from '../auth/password.validator';
import { authConfig, type AuthConfig } from '../config/configuration';
import { isPostgresError, UNIQUE_VIOLATION } from '../database/postgres-errors';
import { SessionsService } from '../sessions/sessions.service';
import { CreateUserDto } from './dto/create-user.dto';
import { User } from './user.entity';

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly sessions: SessionsService,
    @Inject(authConfig.KEY) private readonly config: AuthConfig,
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
        throw new ConflictException(
          'An account with this email already exists: log in with POST /login, or register another email.',
        );
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
    return this.users
      .createQueryBuilder('user')
      .addSelect('user.passwordHash')
      .where('lower(user.email) = lower(:email)', { email: email.trim() })
      .getOne();
  }

  /** Sets a new password and ends every other session of the user, in one transaction. */
  async changePassword(user: AuthenticatedUser, currentPassword: string, newPassword: string): Promise<void> {
    await this.assertPassword(user.id, currentPassword, 'The current password is wrong; nothing was changed.');
    const passwordHash = await hash(newPassword, this.config.bcryptRounds);
    await this.users.manager.transaction(async (manager) => {
      await manager.update(User, { id: user.id }, { passwordHash });
      await this.sessions.revokeAllExcept(user.id, user.sessionId ?? 0, manager);
    });
  }

  /** Deletes the account; its posts, votes and sessions go with it (ON DELETE CASCADE). */
  async deleteAccount(user: AuthenticatedUser, password: string): Promise<void> {
    await this.assertPassword(user.id, password, 'The password is wrong; the account was not deleted.');
    await this.users.delete({ id: user.id });
  }

  private async assertPassword(userId: number, password: string, detail: string): Promise<void> {
    const user = await this.users.findOne({ where: { id: userId }, select: { id: true, passwordHash: true } });
    const matches = user !== null && (await compare(password, user.passwordHash));
    if (!matches || passwordByteLength(password) > PASSWORD_MAX_BYTES) {
      throw new ForbiddenException(detail);
    }
  }
}
