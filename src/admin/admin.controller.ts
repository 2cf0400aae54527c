import { Body, Controller, Get, HttpCode, Param, Post, Put, Query, Res, UseGuards } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiParam, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiBearerAuthRequired, ApiProblemResponses, ID_PROPERTY, RATE_LIMIT_HEADERS } from '../common/api-problem';
import { decodeIdCursor, encodeIdCursor, INTEGER_ID_MAX, linkHeader, nextPageLink } from '../common/id-cursor';
import type { AuthenticatedUser } from '../common/identity/authenticated-user';
import { CurrentUser } from '../common/identity/decorators';
import { ADMINS_ONLY, Roles, RolesGuard } from '../common/identity/roles';
import { ParseIdPipe } from '../common/validation.pipe';
import { LAST_ADMIN, NOT_YOURSELF, AdminService } from './admin.service';
import { AdminUserResponseDto, ListUsersQueryDto, RoleChangeDto } from './dto/admin.dto';

const USER_ID_PARAMETER = {
  name: 'id',
  description: 'The user id: a positive integer.',
  schema: { ...ID_PROPERTY, example: 7 },
};
const NO_SUCH_USER = { status: 404, detail: 'There is no user with id 7; GET /admin/users lists them.' };
const ID_ERROR = {
  status: 422,
  errors: [{ field: 'id', message: 'id must be a positive integer no larger than 2147483647' }],
};

@ApiTags('admin')
@ApiBearerAuthRequired()
@Roles('admin')
@UseGuards(RolesGuard)
@Controller('admin/users')
export class AdminController {
  constructor(private readonly admin: AdminService) {}

  @Get()
  @ApiOperation({
    operationId: 'admin_users_list',
    summary: 'Every account, newest first (admins only)',
    description:
      '`search` matches the e-mail or the username. When more users follow, the `Link` header names the next page.',
  })
  @ApiExtraModels(AdminUserResponseDto)
  @ApiOkResponse({
    description: 'A page of accounts: at most `limit` (100).',
    schema: { type: 'array', maxItems: 100, items: { $ref: getSchemaPath(AdminUserResponseDto) } },
    headers: { ...linkHeader('</admin/users?limit=20&cursor=aTQy>; rel="next"'), ...RATE_LIMIT_HEADERS },
  })
  @ApiProblemResponses({ status: 403, detail: ADMINS_ONLY }, 422)
  async list(@Query() query: ListUsersQueryDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const before = query.cursor === undefined ? undefined : decodeIdCursor(query.cursor, INTEGER_ID_MAX);
    // One more than the page: whether a next page exists, without a count.
    const users = await this.admin.list(query.limit + 1, query.search, before);
    const page = users.slice(0, query.limit);
    if (users.length > query.limit) {
      const last = page[page.length - 1];
      const next = nextPageLink('/admin/users', { limit: query.limit, search: query.search }, encodeIdCursor(last.id));
      reply.header('Link', next);
    }
    return page.map((user) => AdminUserResponseDto.fromUser(user));
  }

  @Put(':id/role')
  @ApiOperation({
    operationId: 'admin_users_set_role',
    summary: 'Make an account an admin, or a user again (admins only)',
    description: 'The last admin cannot be made a user (409). The account owner sees `role_changed` in their activity.',
  })
  @ApiParam(USER_ID_PARAMETER)
  @ApiOkResponse({ type: AdminUserResponseDto, description: 'The account, changed.', headers: RATE_LIMIT_HEADERS })
  @ApiProblemResponses(
    400,
    { status: 403, detail: ADMINS_ONLY },
    NO_SUCH_USER,
    { status: 409, detail: LAST_ADMIN },
    413,
    415,
    ID_ERROR,
  )
  async setRole(
    @CurrentUser() admin: AuthenticatedUser,
    @Param('id', ParseIdPipe) id: number,
    @Body() body: RoleChangeDto,
  ): Promise<AdminUserResponseDto> {
    return AdminUserResponseDto.fromUser(await this.admin.changeRole(admin, id, body.role));
  }

  @Post(':id/disable')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'admin_users_disable',
    summary: 'Disable an account (admins only)',
    description:
      'Every session of the account ends at once and its tokens give 401; logging in with its right password ' +
      'gives 403. You cannot disable yourself (409).',
  })
  @ApiParam(USER_ID_PARAMETER)
  @ApiOkResponse({ type: AdminUserResponseDto, description: 'The account, disabled.', headers: RATE_LIMIT_HEADERS })
  @ApiProblemResponses(
    400,
    { status: 403, detail: ADMINS_ONLY },
    NO_SUCH_USER,
    { status: 409, detail: NOT_YOURSELF },
    413,
    415,
    ID_ERROR,
  )
  async disable(
    @CurrentUser() admin: AuthenticatedUser,
    @Param('id', ParseIdPipe) id: number,
  ): Promise<AdminUserResponseDto> {
    return AdminUserResponseDto.fromUser(await this.admin.disable(admin, id));
  }

  @Post(':id/enable')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'admin_users_enable',
    summary: 'Enable a disabled account again (admins only)',
    description: 'Its owner can log in again; the sessions that ended stay ended.',
  })
  @ApiParam(USER_ID_PARAMETER)
  @ApiOkResponse({ type: AdminUserResponseDto, description: 'The account, enabled.', headers: RATE_LIMIT_HEADERS })
  @ApiProblemResponses(400, { status: 403, detail: ADMINS_ONLY }, NO_SUCH_USER, 413, 415, ID_ERROR)
  async enable(
    @CurrentUser() admin: AuthenticatedUser,
    @Param('id', ParseIdPipe) id: number,
  ): Promise<AdminUserResponseDto> {
    return AdminUserResponseDto.fromUser(await this.admin.enable(admin, id));
  }
}
