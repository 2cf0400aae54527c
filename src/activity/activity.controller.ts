import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiBearerAuthRequired, ApiProblemResponses, RATE_LIMIT_HEADERS } from '../common/api-problem';
import { BIGINT_ID_MAX, decodeIdCursor, encodeIdCursor, linkHeader, nextPageLink } from '../common/id-cursor';
import type { AuthenticatedUser } from '../common/identity/authenticated-user';
import { CurrentUser } from '../common/identity/decorators';
import { ActivityService } from './activity.service';
import { ActivityQueryDto, ActivityResponseDto } from './dto/activity.dto';

@ApiTags('users')
@ApiBearerAuthRequired()
@Controller('users/me/activity')
export class ActivityController {
  constructor(private readonly activity: ActivityService) {}

  @Get()
  @ApiOperation({
    operationId: 'users_activity',
    summary: 'The security activity of your account, newest first',
    description:
      'Logins (and failed or blocked ones), logouts, ended sessions, password and e-mail changes, resets, and what ' +
      'admins did to the account, with the address, user agent and session of each when you made it. Kept ' +
      'ACTIVITY_RETENTION_DAYS (90) days. When more events follow, the `Link` header names the next page.',
  })
  @ApiExtraModels(ActivityResponseDto)
  @ApiOkResponse({
    description: 'A page of events: at most `limit` (100).',
    schema: { type: 'array', maxItems: 100, items: { $ref: getSchemaPath(ActivityResponseDto) } },
    headers: { ...linkHeader('</users/me/activity?limit=20&cursor=aTQy>; rel="next"'), ...RATE_LIMIT_HEADERS },
  })
  @ApiProblemResponses(422)
  async list(
    @CurrentUser() user: AuthenticatedUser,
    @Query() query: ActivityQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ActivityResponseDto[]> {
    const before = query.cursor === undefined ? undefined : decodeIdCursor(query.cursor, BIGINT_ID_MAX);
    // One more than the page: whether a next page exists, without a count.
    const events = await this.activity.list(user.id, query.limit + 1, before);
    const page = events.slice(0, query.limit);
    if (events.length > query.limit) {
      const last = page[page.length - 1];
      reply.header('Link', nextPageLink('/users/me/activity', { limit: query.limit }, encodeIdCursor(last.id)));
    }
    return page.map((event) => ActivityResponseDto.from(event));
  }
}
