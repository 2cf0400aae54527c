import { HttpStatus, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { hash } from 'bcrypt';
import { randomBytes } from 'node:crypto';
import { invalidTokenException, ProblemException } from '../common/problem';
import { MAX_ID } from '../common/validation.pipe';
import { AUTH_CONFIG, type AuthConfig } from '../config/configuration';
import { RefreshedSession, SessionsService } from '../sessions/sessions.service';
import { UsersService } from '../users/users.service';
import {
  type AccessTokenPayload,
  type AuthenticatedUser,
  type ClientInfo,
  originOf,
} from '../common/identity/authenticated-user';
import { ActivityService } from '../activity/activity.service';
import { TokenResponseDto } from './dto/login.dto';
import { LoginThrottleService } from './login-throttle.service';
import { passwordMatches } from '../common/identity/password.validator';

export const INVALID_CREDENTIALS = 'Invalid credentials';
export const ACCOUNT_DISABLED =
  'This account is disabled by an administrator: it cannot log in. Ask the administrators of the service to enable it.';

/** How far ahead of this clock another instance's may be when it signs a token (`iat`). */
const CLOCK_SKEW_SECONDS = 60;

function parseId(value: unknown): number | undefined {
  const id = typeof value === 'string' && /^[1-9][0-9]{0,9}$/.test(value) ? Number(value) : value;
  return typeof id === 'number' && Number.isInteger(id) && id >= 1 && id <= MAX_ID ? id : undefined;
}

@Injectable()
export class AuthService implements OnModuleInit {
  /** Compared against when the e-mail is unknown, so both failures take the same time. */
  private dummyPasswordHash: string;

  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly throttle: LoginThrottleService,
    private readonly activity: ActivityService,
    private readonly jwt: JwtService,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    this.dummyPasswordHash = await hash(randomBytes(16).toString('hex'), this.config.bcryptRounds);
  }

  /**
   * The user these credentials belong to (`login` is the e-mail or the username): one
   * bcrypt comparison whatever the outcome, within the brute-force limits of the
   * client's address. The failures count per account, keyed by its e-mail address (so
   * the e-mail and the username of one account share a count), or per name for an
   * unknown one.
   */
  async verifyCredentials(login: string, password: string, client: ClientInfo): Promise<AuthenticatedUser> {
    const clientIp = client.ip ?? '';
    const user = await this.users.findForLogin(login);
    const account = (user ? user.email : login.trim()).toLowerCase();
    try {
      await this.throttle.beginAttempt(account, clientIp);
    } catch (refusal) {
      if (user) {
        this.activity.recordRefusedLogin(user.id, 'login_blocked', originOf(client));
      }
      throw refusal;
    }
    const matches = await passwordMatches(password, user?.passwordHash ?? this.dummyPasswordHash);
    if (!user || !matches) {
      if (user) {
        this.activity.recordRefusedLogin(user.id, 'login_failed', originOf(client));
      }
      throw new ProblemException(HttpStatus.UNAUTHORIZED, INVALID_CREDENTIALS);
    }
    await this.throttle.recordSuccess(account, clientIp);
    if (user.disabledAt) {
      // Only with the right password: a wrong one is the usual 401, so this tells nothing to a guesser.
      this.activity.recordRefusedLogin(user.id, 'login_blocked', originOf(client));
      throw new ProblemException(HttpStatus.FORBIDDEN, ACCOUNT_DISABLED);
    }
    return {
      id: user.id,
      email: user.email,
      username: user.username,
      role: user.role,
      emailVerified: user.emailVerifiedAt !== null,
      createdAt: user.createdAt,
      credentialVersion: user.credentialVersion,
    };
  }

  /**
   * Each login starts a session: an access token that names it and its first refresh token.
   * The session is created only while the credentials the password was checked against are
   * still current: a password change or an account deletion that won the race leaves none.
   */
  async logIn(user: AuthenticatedUser, client: ClientInfo): Promise<TokenResponseDto> {
    const session = await this.sessions.start(user.id, user.credentialVersion ?? 0, client);
    if (!session) {
      throw new ProblemException(HttpStatus.UNAUTHORIZED, INVALID_CREDENTIALS);
    }
    return this.issueTokens(session);
  }

  /** Spends a refresh token for a new pair of tokens on the same session. */
  async refresh(refreshToken: string, client: ClientInfo): Promise<TokenResponseDto> {
    return this.issueTokens(await this.sessions.rotate(refreshToken, client));
  }

  async logOut(user: AuthenticatedUser, client: ClientInfo): Promise<void> {
    if (user.sessionId !== undefined) {
      await this.sessions.revoke(user.id, user.sessionId, 'logout', client);
    }
  }

  /** The live user and session a verified token speaks for; ended sessions and deleted users are refused. */
  async userForToken(payload: AccessTokenPayload): Promise<AuthenticatedUser> {
    const userId = parseId(payload.sub);
    const sessionId = parseId(payload.sid);
    if (userId === undefined || sessionId === undefined || payload.user_id !== userId) {
      throw invalidTokenException('The access token names no valid user or session; log in again with POST /login.');
    }
    // jsonwebtoken accepts a token without `exp` (it would never expire) and an `iat` in the future.
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.exp !== 'number' || (payload.iat !== undefined && !(payload.iat <= now + CLOCK_SKEW_SECONDS))) {
      throw invalidTokenException('The access token has no valid lifetime; log in again with POST /login.');
    }
    const user = await this.sessions.findLiveSessionUser(sessionId, userId);
    if (!user) {
      throw invalidTokenException(
        'The session of this access token has ended (logged out, revoked, or the account was deleted); log in again with POST /login.',
      );
    }
    return user;
  }

  private async issueTokens({ sessionId, userId, refreshToken }: RefreshedSession): Promise<TokenResponseDto> {
    const payload: AccessTokenPayload = { sub: String(userId), user_id: userId, sid: sessionId };
    return {
      access_token: await this.jwt.signAsync(payload),
      token_type: 'bearer',
      expires_in: this.config.accessTokenExpiresInSeconds,
      refresh_token: refreshToken,
      refresh_expires_in: this.config.refreshTokenExpiresInSeconds,
    };
  }
}
