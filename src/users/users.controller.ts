import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Res } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { AuthenticatedUser, ClientInfo } from '../common/identity/authenticated-user';
import { Client, CurrentUser, Public } from '../common/identity/decorators';
import { ApiBearerAuthRequired, ApiProblemResponses, RATE_LIMIT_HEADERS } from '../common/api-problem';
import { CreateUserDto } from './dto/create-user.dto';
import { ChangePasswordDto, DeleteAccountDto } from './dto/password.dto';
import { UpdateMeDto } from './dto/update-me.dto';
import { userReference } from './dto/username';
import { MeResponseDto, UserResponseDto } from './dto/user-response.dto';
import {
  EMAIL_TAKEN,
  EMAIL_TAKEN_MESSAGE,
  TAKEN_DETAIL,
  UsersService,
  WRONG_CURRENT_PASSWORD,
  WRONG_PASSWORD_NOT_DELETED,
} from './users.service';

@ApiTags('users')
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Public()
  @Post()
  @ApiOperation({
    operationId: 'users_create',
    summary: 'Register an account',
    description:
      'Needs no token. `username` is optional (it can be set later with PATCH /users/me). A mail with a link that ' +
      'verifies the address goes to `email`. Then log in with POST /login, the e-mail or the username as `username`.',
    security: [],
  })
  @ApiCreatedResponse({
    type: UserResponseDto,
    description: 'The new user; `Location` names it.',
    headers: RATE_LIMIT_HEADERS,
  })
  @ApiProblemResponses(
    400,
    {
      status: 409,
      detail: EMAIL_TAKEN,
      extensions: { errors: [{ field: 'email', message: EMAIL_TAKEN_MESSAGE }] },
    },
    413,
    415,
    { status: 422, errors: [{ field: 'email', message: 'email must be a valid e-mail address' }] },
    429,
    503,
  )
  async create(
    @Body() body: CreateUserDto,
    @Client() client: ClientInfo,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UserResponseDto> {
    const user = await this.users.register(body, client);
    reply.header('Location', `/users/${user.id}`);
    return UserResponseDto.from(user);
  }

  @Get('me')
  @ApiBearerAuthRequired()
  @ApiOperation({
    operationId: 'users_me',
    summary: 'The account of the token',
    description: 'A quick way to check a token: 200 with your account, or 401 with what to do.',
  })
  @ApiOkResponse({ type: MeResponseDto, description: 'Your account.', headers: RATE_LIMIT_HEADERS })
  me(@CurrentUser() user: AuthenticatedUser): MeResponseDto {
    return MeResponseDto.fromAccount(user);
  }

  @Patch('me')
  @ApiBearerAuthRequired()
  @ApiOperation({
    operationId: 'users_update_me',
    summary: 'Change your username or e-mail address',
    description:
      'Send any of the fields. A new e-mail address needs `current_password`; it counts as unverified, and a mail ' +
      'with a verification link goes to it (links sent to the old address stop working).',
  })
  @ApiOkResponse({ type: MeResponseDto, description: 'Your account, changed.', headers: RATE_LIMIT_HEADERS })
  @ApiProblemResponses(
    400,
    { status: 403, detail: WRONG_CURRENT_PASSWORD },
    {
      status: 409,
      detail: TAKEN_DETAIL,
      extensions: { errors: [{ field: 'username', message: 'username is already taken' }] },
    },
    413,
    415,
    {
      status: 422,
      errors: [{ field: 'current_password', message: 'current_password is required to change the e-mail address' }],
    },
  )
  async updateMe(
    @CurrentUser() caller: AuthenticatedUser,
    @Body() body: UpdateMeDto,
    @Client() client: ClientInfo,
  ): Promise<MeResponseDto> {
    const user = await this.users.update(caller, body, client);
    return MeResponseDto.fromAccount({ ...user, emailVerified: user.emailVerifiedAt !== null });
  }

  @Put('me/password')
  @HttpCode(204)
  @ApiBearerAuthRequired()
  @ApiOperation({
    operationId: 'users_change_password',
    summary: 'Change your password',
    description: 'Every other session of the account ends; the one making this request goes on.',
  })
  @ApiNoContentResponse({ description: 'Changed.', headers: RATE_LIMIT_HEADERS })
  @ApiProblemResponses(400, { status: 403, detail: WRONG_CURRENT_PASSWORD }, 413, 415, {
    status: 422,
    errors: [{ field: 'new_password', message: 'new_password must be 8 to 72 bytes of UTF-8 (it is 5 bytes)' }],
  })
  changePassword(
    @CurrentUser() user: AuthenticatedUser,
    @Body() body: ChangePasswordDto,
    @Client() client: ClientInfo,
  ): Promise<void> {
    return this.users.changePassword(user, body.current_password, body.new_password, client);
  }

  @Delete('me')
  @HttpCode(204)
  @ApiBearerAuthRequired()
  @ApiOperation({
    operationId: 'users_delete_me',
    summary: 'Delete your account',
    description: 'Your posts, votes and sessions go with it; your tokens stop working.',
  })
  @ApiNoContentResponse({ description: 'Deleted.', headers: RATE_LIMIT_HEADERS })
  @ApiProblemResponses(400, { status: 403, detail: WRONG_PASSWORD_NOT_DELETED }, 413, 415, {
    status: 422,
    errors: [{ field: 'password', message: 'password is required' }],
  })
  deleteMe(@CurrentUser() user: AuthenticatedUser, @Body() body: DeleteAccountDto): Promise<void> {
    return this.users.deleteAccount(user, body.password);
  }

  @Get(':id')
  @ApiBearerAuthRequired()
  @ApiOperation({
    operationId: 'users_get',
    summary: 'A user by id or username',
    description:
      'Any account, for any caller with a token (e.g. the owner of a post). A path segment of digits only is an id; ' +
      'anything else is a username (any case).',
  })
  @ApiParam({
    name: 'id',
    description: 'The user id (a positive integer) or the username.',
    schema: { type: 'string', pattern: '^([0-9]{1,10}|[A-Za-z][A-Za-z0-9_]{2,29})$', maxLength: 30, example: 'alice' },
  })
  @ApiOkResponse({ type: UserResponseDto, description: 'The user.', headers: RATE_LIMIT_HEADERS })
  @ApiProblemResponses(
    { status: 404, detail: 'There is no user with id 7; check the id (GET /users/me gives yours).' },
    { status: 422, errors: [{ field: 'id', message: 'id must be a positive integer no larger than 2147483647' }] },
  )
  async findOne(@CurrentUser() caller: AuthenticatedUser, @Param('id') idOrUsername: string): Promise<UserResponseDto> {
    const reference = userReference(idOrUsername);
    const user = reference ? await this.users.lookUp(caller.id, reference) : this.users.noSuchUsername(idOrUsername);
    return UserResponseDto.from({ ...user, createdAt: user.created_at });
  }
}
