import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-local';
import type { AuthenticatedUser } from '../common/identity/authenticated-user';
import { AuthService } from './auth.service';

/** `POST /login`: the OAuth2 form's `username` is the e-mail or the username. */
@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy) {
  constructor(private readonly auth: AuthService) {
    super({ usernameField: 'username', passwordField: 'password', session: false, passReqToCallback: true });
  }

  validate(request: FastifyRequest, username: string, password: string): Promise<AuthenticatedUser> {
    return this.auth.verifyCredentials(username, password, {
      ip: request.ip ?? null,
      userAgent: request.headers['user-agent'] ?? null,
    });
  }
}
