import { Body, Controller, Get, Param, Post, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser, Public } from '../auth/decorators';
import { ApiBearerAuthRequired, ApiProblemResponses } from '../common/api-problem';
import { ParseIdPipe } from '../common/validation.pipe';
import { CreateUserDto } from './dto/create-user.dto';
import { UserResponseDto } from './dto/user-response.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Public()
  @Post()
  @ApiOperation({ operationId: 'users_create', summary: 'Register an account' })
  @ApiCreatedResponse({ type: UserResponseDto, description: 'The new user; `Location` names it.' })
  @ApiProblemResponses(400, 409, 413, 415, 422)
  async create(@Body() body: CreateUserDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<UserResponseDto> {
    const user = await this.users.register(body);
    reply.header('Location', `/users/${user.id}`);
    return UserResponseDto.from(user);
  }

  @Get('me')
  @ApiBearerAuthRequired()
  @ApiOperation({ operationId: 'users_me', summary: 'The account of the token' })
  @ApiOkResponse({ type: UserResponseDto })
  me(@CurrentUser() user: AuthenticatedUser): UserResponseDto {
    return UserResponseDto.from(user);
  }

  @Get(':id')
  @ApiBearerAuthRequired()
  @ApiOperation({ operationId: 'users_get', summary: 'A user by id' })
  @ApiOkResponse({ type: UserResponseDto })
  @ApiProblemResponses(404, 422)
  async findOne(@Param('id', ParseIdPipe) id: number): Promise<UserResponseDto> {
    return UserResponseDto.from(await this.users.getById(id));
  }
}
