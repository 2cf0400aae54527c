import { HttpStatus, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { compare, hash } from 'bcrypt';
import { randomBytes } from 'node:crypto';
import { ProblemException } from '../common/problem';
import { MAX_ID } from '../common/validation.pipe';
import { authConfig, type AuthConfig } from '../config/configuration';
import { UsersService } from '../users/users.service';
import type { AccessTokenPayload, AuthenticatedUser } from './authenticated-user';
import { AccessTokenResponseDto } from './dto/login.dto';
import { PASSWORD_MAX_BYTES, passwordByteLength } from './password.validator';

export const INVALID_CREDENTIALS = 'Invalid credentials';

/** A 401 for a bad or expired token, with the header RFC 6750 asks for. */
export function invalidTokenException(detail: string): ProblemException {
  return new ProblemException(HttpStatus.UNAUTHORIZED, detail, {
    'WWW-Authenticate': 'Bearer error="invalid_token"',
  });
}

@Injectable()
export class AuthService implements OnModuleInit {
  /** Compared against when the e-mail is unknown, so both failures take the same time. */
  private dummyPasswordHash: string;

  constructor(
    private readonly users: UsersService,
    private readonly jwt: JwtService,
    @Inject(authConfig.KEY) private readonly config: AuthConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    this.dummyPasswordHash = await hash(randomBytes(16).toString('hex'), this.config.bcryptRounds);
  }

  /** The user these credentials belong to; one bcrypt comparison whatever the outcome. */
  async verifyCredentials(email: string, password: string): Promise<AuthenticatedUser> {
    const user = await this.users.findByEmailWithPasswordHash(email);
    const matches = await compare(password, user?.passwordHash ?? this.dummyPasswordHash);
    // bcrypt ignores bytes past 72: a longer password must never match a shorter one.
    if (!user || !matches || passwordByteLength(password) > PASSWORD_MAX_BYTES) {
      throw new ProblemException(HttpStatus.UNAUTHORIZED, INVALID_CREDENTIALS);
    }
    return { id: user.id, email: user.email, createdAt: user.createdAt };
  }

  async issueAccessToken(user: AuthenticatedUser): Promise<AccessTokenResponseDto> {
    const payload: AccessTokenPayload = { sub: String(user.id), user_id: user.id };
    const accessToken = await this.jwt.signAsync(payload);
    return { access_token: accessToken, token_type: 'bearer', expires_in: this.config.accessTokenExpiresInSeconds };
  }

  /** The live user a verified token speaks for; a token of a deleted user is refused. */
  async userForToken(payload: AccessTokenPayload): Promise<AuthenticatedUser> {
    const id = typeof payload.sub === 'string' && /^[1-9][0-9]{0,9}$/.test(payload.sub) ? Number(payload.sub) : NaN;
    if (!Number.isSafeInteger(id) || id > MAX_ID) {
      throw invalidTokenException('The access token has no valid subject; log in again with POST /login.');
    }
    const user = await this.users.findById(id);
    if (!user) {
      throw invalidTokenException('The user of this access token no longer exists; register or log in again.');
    }
    return { id: user.id, email: user.email, createdAt: user.createdAt };
  }
}
