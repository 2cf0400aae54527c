import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Res } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { AuthenticatedUser } from '../common/identity/authenticated-user';
import { CurrentUser, Public } from '../common/identity/decorators';
import { ApiBearerAuthRequired, ApiProblemResponses, ID_PROPERTY, RATE_LIMIT_HEADERS } from '../common/api-problem';
import { ParseIdPipe } from '../common/validation.pipe';
import { CreateUserDto } from './dto/create-user.dto';
import { ChangePasswordDto, DeleteAccountDto } from './dto/password.dto';
import { UserResponseDto } from './dto/user-response.dto';
import { EMAIL_TAKEN, UsersService, WRONG_CURRENT_PASSWORD, WRONG_PASSWORD_NOT_DELETED } from './users.service';

@ApiTags('users')
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Public()
  @Post()
  @ApiOperation({
    operationId: 'users_create',
    summary: 'Register an account',
    description: 'Needs no token. Then log in with POST /login, the e-mail as `username`.',
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
    },
    413,
    415,
    { status: 422, errors: [{ field: 'email', message: 'email must be a valid e-mail address' }] },
    429,
    503,
  )
  async create(@Body() body: CreateUserDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<UserResponseDto> {
    const user = await this.users.register(body);
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
  @ApiOkResponse({ type: UserResponseDto, description: 'Your account.', headers: RATE_LIMIT_HEADERS })
  me(@CurrentUser() user: AuthenticatedUser): UserResponseDto {
    return UserResponseDto.from(user);
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
  changePassword(@CurrentUser() user: AuthenticatedUser, @Body() body: ChangePasswordDto): Promise<void> {
    return this.users.changePassword(user, body.current_password, body.new_password);
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
    summary: 'A user by id',
    description: 'Any account, for any caller with a token (e.g. the owner of a post).',
  })
  @ApiParam({ name: 'id', description: 'The user id: a positive integer.', schema: { ...ID_PROPERTY, example: 1 } })
  @ApiOkResponse({ type: UserResponseDto, description: 'The user.', headers: RATE_LIMIT_HEADERS })
  @ApiProblemResponses(
    { status: 404, detail: 'There is no user with id 7; check the id (GET /users/me gives yours).' },
    { status: 422, errors: [{ field: 'id', message: 'id must be a positive integer no larger than 2147483647' }] },
  )
  async findOne(@Param('id', ParseIdPipe) id: number): Promise<UserResponseDto> {
    return UserResponseDto.from(await this.users.getById(id));
  }
}
