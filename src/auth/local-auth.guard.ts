import { ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { AppValidationPipe } from '../common/validation.pipe';
import { LoginDto } from './dto/login.dto';

/**
 * `POST /login`. Guards run before pipes, and passport-local answers 401 for a missing
 * field: the body is validated here first, so a missing field is a 422.
 */
@Injectable()
export class LocalAuthGuard extends AuthGuard('local') {
  private readonly validation = new AppValidationPipe();

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<{ body: unknown }>();
    await this.validation.transform(request.body, { type: 'body', metatype: LoginDto });
    return (await super.canActivate(context)) as boolean;
  }
}
