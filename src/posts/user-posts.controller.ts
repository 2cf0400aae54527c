import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiParam, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiBearerAuthRequired, ApiProblemResponses, RATE_LIMIT_HEADERS } from '../common/api-problem';
import { linkHeader } from '../common/id-cursor';
import type { AuthenticatedUser } from '../common/identity/authenticated-user';
import { CurrentUser } from '../common/identity/decorators';
import { ListPostsQueryDto } from './dto/list-posts-query.dto';
import { PostResponseDto } from './dto/post-response.dto';
import { nextPageUrl } from './posts.controller';
import { PostsService } from './posts.service';

const POSTS_PAGE = {
  description: 'A page of posts, newest first: at most `limit` (100).',
  schema: { type: 'array', maxItems: 100, items: { $ref: getSchemaPath(PostResponseDto) } },
} as const;

/**
 * One author's posts, under the author's path: `/users/me/posts` (yours, drafts
 * included: the "API Auth Service" variant's `GET /posts/all`) and `/users/{id or
 * username}/posts`. The same list as `GET /posts?owner_id=`, with its filters and paging.
 */
@ApiTags('posts')
@ApiBearerAuthRequired()
@Controller('users')
export class UserPostsController {
  constructor(private readonly posts: PostsService) {}

  @Get('me/posts')
  @ApiOperation({
    operationId: 'posts_mine',
    summary: 'Your posts, drafts included, newest first',
    description: 'The same filters and `Link` paging as GET /posts.',
  })
  @ApiExtraModels(PostResponseDto)
  @ApiOkResponse({
    ...POSTS_PAGE,
    headers: {
      ...linkHeader('</users/me/posts?limit=10&cursor=MTc5NTMyMDcwNzEyMzQ1Ni40Mg>; rel="next"'),
      ...RATE_LIMIT_HEADERS,
    },
  })
  @ApiProblemResponses(422)
  async mine(
    @CurrentUser() user: AuthenticatedUser,
    @Query() query: ListPostsQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PostResponseDto[]> {
    return this.page('/users/me/posts', user, { ...query, owner_id: user.id }, query, reply);
  }

  @Get(':id/posts')
  @ApiOperation({
    operationId: 'posts_of_user',
    summary: "A user's posts, newest first",
    description:
      'Their published posts (and their drafts, when they are yours). The same filters and paging as GET /posts.',
  })
  @ApiParam({
    name: 'id',
    description: 'The user id (a positive integer) or the username.',
    schema: { type: 'string', pattern: '^([0-9]{1,10}|[A-Za-z][A-Za-z0-9_]{2,29})$', maxLength: 30, example: 'alice' },
  })
  @ApiExtraModels(PostResponseDto)
  @ApiOkResponse({
    ...POSTS_PAGE,
    headers: {
      ...linkHeader('</users/alice/posts?limit=10&cursor=MTc5NTMyMDcwNzEyMzQ1Ni40Mg>; rel="next"'),
      ...RATE_LIMIT_HEADERS,
    },
  })
  @ApiProblemResponses(
    {
      status: 404,
      detail: 'There is no user "alice"; GET /users/me gives you, GET /posts?author=... finds authors\' posts.',
    },
    { status: 422, errors: [{ field: 'id', message: 'id must be a positive integer no larger than 2147483647' }] },
  )
  async ofUser(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id') idOrUsername: string,
    @Query() query: ListPostsQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PostResponseDto[]> {
    const ownerId = await this.posts.userIdOf(idOrUsername);
    return this.page(
      `/users/${encodeURIComponent(idOrUsername)}/posts`,
      user,
      { ...query, owner_id: ownerId },
      query,
      reply,
    );
  }

  private async page(
    path: string,
    user: AuthenticatedUser,
    filters: ListPostsQueryDto,
    query: ListPostsQueryDto,
    reply: FastifyReply,
  ): Promise<PostResponseDto[]> {
    const { posts, nextCursor } = await this.posts.list(user.id, filters);
    if (nextCursor) {
      reply.header('Link', `<${nextPageUrl(path, query, nextCursor)}>; rel="next"`);
    }
    return posts;
  }
}
