import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiExtraModels,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { type AuthenticatedUser, VERIFY_EMAIL_FIRST } from '../common/identity/authenticated-user';
import { CurrentUser, VerifiedEmailRequired } from '../common/identity/decorators';
import { ApiBearerAuthRequired, ApiProblemResponses, ID_PROPERTY, RATE_LIMIT_HEADERS } from '../common/api-problem';
import { ParseIdPipe } from '../common/validation.pipe';
import { IDEMPOTENT_REPLAYED, Idempotent } from '../idempotency/idempotent.decorator';
import { ListPostsQueryDto } from './dto/list-posts-query.dto';
import { CreatePostDto, ReplacePostDto, UpdatePostDto } from './dto/post-input.dto';
import { PostResponseDto } from './dto/post-response.dto';
import { PostsService, type VersionedPost } from './posts.service';
import { IF_MATCH_MAX_LENGTH, postETag, versionsOfIfMatch } from './if-match';

/** The answer of a single-post route: the post, with its strong ETag. */
const WITH_ETAG = {
  ETag: {
    description:
      "The post's version as a strong ETag. It changes with every change of the title, content or published flag " +
      '(not with votes or comments); send it back in `If-Match` to change or delete the post only if it is still this version.',
    schema: { type: 'string', pattern: '^"[1-9][0-9]{0,9}"$', maxLength: 12, example: '"3"' },
  },
  ...RATE_LIMIT_HEADERS,
};

const IfMatchHeader = () =>
  ApiHeader({
    name: 'If-Match',
    required: false,
    description:
      'Only if the post is still at this version: the `ETag` of an earlier answer (`*`: any version). Otherwise 412 and nothing changes. ' +
      'Without it the request works unconditionally.',
    schema: { type: 'string', maxLength: IF_MATCH_MAX_LENGTH, example: '"3"' },
  });

function withETag(reply: FastifyReply, { post, version }: VersionedPost): PostResponseDto {
  reply.header('ETag', postETag(version));
  return post;
}

const PostIdParameter = () =>
  ApiParam({ name: 'id', description: 'The post id: a positive integer.', schema: { ...ID_PROPERTY, example: 7 } });

@ApiTags('posts')
@ApiBearerAuthRequired()
@Controller('posts')
export class PostsController {
  constructor(private readonly posts: PostsService) {}

  @Get()
  @ApiOperation({
    operationId: 'posts_list',
    summary: 'Published posts and your drafts, newest first or most voted first',
    description:
      "Narrow it with `owner_id` or `author` (one author's posts), `voted` (those you voted for) and `search`; " +
      '`sort=top` lists the most voted first (then the newest). Each post says how many votes and comments it has ' +
      'and whether you voted for it (`voted`). ' +
      'When more posts follow, the `Link` header (RFC 8288) names the next page: `</posts?limit=10&cursor=...>; rel="next"`.',
  })
  @ApiExtraModels(PostResponseDto)
  @ApiOkResponse({
    description: 'A page of posts: at most `limit` (100).',
    schema: { type: 'array', maxItems: 100, items: { $ref: getSchemaPath(PostResponseDto) } },
    headers: {
      Link: {
        description: 'The next page, as `<url>; rel="next"`, when there is one.',
        // The path and query of the next page: limit, search (up to 200 characters, percent-encoded) and cursor.
        schema: {
          type: 'string',
          pattern: '^<[^>]+>; rel="next"$',
          maxLength: 4096,
          example: '</posts?limit=10&cursor=MTc5NTMyMDcwNzEyMzQ1Ni40Mg>; rel="next"',
        },
      },
      ...RATE_LIMIT_HEADERS,
    },
  })
  @ApiProblemResponses(422)
  async list(
    @CurrentUser() user: AuthenticatedUser,
    @Query() query: ListPostsQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PostResponseDto[]> {
    const { posts, nextCursor } = await this.posts.list(user.id, query);
    if (nextCursor) {
      reply.header('Link', `<${nextPageUrl('/posts', query, nextCursor)}>; rel="next"`);
    }
    return posts;
  }

  @Get(':id')
  @PostIdParameter()
  @ApiOperation({
    operationId: 'posts_get',
    summary: 'One post',
    description: "A published post, or a draft of yours; another user's draft answers 404, as a missing post does.",
  })
  @ApiOkResponse({ type: PostResponseDto, description: 'The post.', headers: WITH_ETAG })
  @ApiProblemResponses(404, 422)
  async findOne(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', ParseIdPipe) id: number,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PostResponseDto> {
    return withETag(reply, await this.posts.findVisible(user.id, id));
  }

  @Post()
  @ApiOperation({
    operationId: 'posts_create',
    summary: 'Write a post',
    description: 'You are its owner; `published` defaults to true (false keeps it a draft only you see).',
  })
  @ApiCreatedResponse({
    type: PostResponseDto,
    description: 'The new post; `Location` names it.',
    headers: { ...WITH_ETAG, ...IDEMPOTENT_REPLAYED },
  })
  @ApiProblemResponses(400, { status: 403, detail: VERIFY_EMAIL_FIRST }, 413, 415, 422)
  @VerifiedEmailRequired()
  @Idempotent()
  async create(
    @CurrentUser() user: AuthenticatedUser,
    @Body() body: CreatePostDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PostResponseDto> {
    const created = await this.posts.create(user.id, body);
    reply.header('Location', `/posts/${created.post.id}`);
    return withETag(reply, created);
  }

  @Put(':id')
  @PostIdParameter()
  @ApiOperation({
    operationId: 'posts_replace',
    summary: 'Replace your post (every field)',
    description: 'Send `title`, `content` and `published`, all of them. Only the owner may; others get 403.',
  })
  @IfMatchHeader()
  @ApiOkResponse({ type: PostResponseDto, description: 'The post as it is now.', headers: WITH_ETAG })
  @ApiProblemResponses(400, 403, 404, 412, 413, 415, 422)
  @VerifiedEmailRequired()
  async replace(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', ParseIdPipe) id: number,
    @Body() body: ReplacePostDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PostResponseDto> {
    return withETag(reply, await this.posts.replace(user.id, id, body, versionsOfIfMatch(ifMatch)));
  }

  @Patch(':id')
  @PostIdParameter()
  @ApiOperation({
    operationId: 'posts_update',
    summary: 'Change some fields of your post',
    description: 'Send any of `title`, `content` and `published`, at least one. Only the owner may; others get 403.',
  })
  @IfMatchHeader()
  @ApiOkResponse({ type: PostResponseDto, description: 'The post as it is now.', headers: WITH_ETAG })
  @ApiProblemResponses(400, 403, 404, 412, 413, 415, 422)
  @VerifiedEmailRequired()
  async update(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', ParseIdPipe) id: number,
    @Body() body: UpdatePostDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PostResponseDto> {
    return withETag(reply, await this.posts.update(user.id, id, body, versionsOfIfMatch(ifMatch)));
  }

  @Delete(':id')
  @HttpCode(204)
  @PostIdParameter()
  @ApiOperation({
    operationId: 'posts_delete',
    summary: 'Delete your post and its votes (admins: any post)',
    description:
      "The owner may, and so may an admin (for a post they can see); others get 403. An admin's deletion shows in " +
      "the owner's activity as `post_removed_by_admin`.",
  })
  @IfMatchHeader()
  @ApiNoContentResponse({ description: 'Deleted.', headers: RATE_LIMIT_HEADERS })
  @ApiProblemResponses(400, 403, 404, 412, 413, 415, 422)
  remove(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', ParseIdPipe) id: number,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    return this.posts.remove(user, id, versionsOfIfMatch(ifMatch));
  }
}

/** The URL of the next page: the same path and filters, continued from the cursor. */
export function nextPageUrl(
  path: string,
  { limit, search, owner_id: ownerId, author, voted, sort }: ListPostsQueryDto,
  cursor: string,
): string {
  const parameters = new URLSearchParams({ limit: String(limit) });
  if (sort === 'top') {
    parameters.set('sort', sort);
  }
  if (search) {
    parameters.set('search', search);
  }
  if (ownerId !== undefined) {
    parameters.set('owner_id', String(ownerId));
  }
  if (author !== undefined) {
    parameters.set('author', author);
  }
  if (voted !== undefined) {
    parameters.set('voted', voted);
  }
  parameters.set('cursor', cursor);
  return `${path}?${parameters.toString()}`;
}
