import { ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { hash } from 'bcrypt';
import { QueryFailedError, Repository } from 'typeorm';
import { authConfig, type AuthConfig } from '../config/configuration';
import { CreateUserDto } from './dto/create-user.dto';
import { User } from './user.entity';

const UNIQUE_VIOLATION = '23505';

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
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
      if (error instanceof QueryFailedError && (error.driverError as { code?: string }).code === UNIQUE_VIOLATION) {
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
      throw new NotFoundException(`There is no user with id ${id}.`);
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
}
