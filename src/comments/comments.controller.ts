import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiBearerAuthRequired, ApiProblemResponses, ID_PROPERTY, RATE_LIMIT_HEADERS } from '../common/api-problem';
import { linkHeader, nextPageLink } from '../common/id-cursor';
import { type AuthenticatedUser, VERIFY_EMAIL_FIRST } from '../common/identity/authenticated-user';
import { CurrentUser, VerifiedEmailRequired } from '../common/identity/decorators';
import { ParseIdPipe } from '../common/validation.pipe';
import { IDEMPOTENT_REPLAYED, Idempotent } from '../idempotency/idempotent.decorator';
import { CommentsService } from './comments.service';
import { CreateCommentDto, UpdateCommentDto } from './dto/comment-input.dto';
import { CommentResponseDto } from './dto/comment-response.dto';
import { ListCommentsQueryDto } from './dto/list-comments-query.dto';

const PostIdParameter = () =>
  ApiParam({ name: 'id', description: 'The post id: a positive integer.', schema: { ...ID_PROPERTY, example: 7 } });
const CommentIdParameter = () =>
  ApiParam({ name: 'id', description: 'The comment id: a positive integer.', schema: { ...ID_PROPERTY, example: 12 } });

const COMMENT_NOT_FOUND = {
  status: 404,
  detail: "There is no comment with id 12 on a post you can see; GET /posts/{id}/comments lists a post's comments.",
};
const CONTENT_ERRORS = {
  status: 422,
  errors: [{ field: 'content', message: 'content must be 1 to 2000 characters after trimming' }],
};

@ApiTags('comments')
@ApiBearerAuthRequired()
@Controller()
export class CommentsController {
  constructor(private readonly comments: CommentsService) {}

  @Get('posts/:id/comments')
  @PostIdParameter()
  @ApiOperation({
    operationId: 'comments_list',
    summary: "A post's comments, oldest first",
    description:
      "The comments of a post you can see (another user's draft answers 404, as a missing post does). When more " +
      'comments follow, the `Link` header (RFC 8288) names the next page; comments written during a walk come at ' +
      'its end.',
  })
  @ApiExtraModels(CommentResponseDto)
  @ApiOkResponse({
    description: 'A page of comments: at most `limit` (100).',
    schema: { type: 'array', maxItems: 100, items: { $ref: getSchemaPath(CommentResponseDto) } },
    headers: { ...linkHeader('</posts/7/comments?limit=20&cursor=aTQy>; rel="next"'), ...RATE_LIMIT_HEADERS },
  })
  @ApiProblemResponses(404, 422)
  async list(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', ParseIdPipe) postId: number,
    @Query() query: ListCommentsQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CommentResponseDto[]> {
    const { comments, nextCursor } = await this.comments.list(user.id, postId, query);
    if (nextCursor) {
      reply.header('Link', nextPageLink(`/posts/${postId}/comments`, { limit: query.limit }, nextCursor));
    }
    return comments;
  }

  @Post('posts/:id/comments')
  @PostIdParameter()
  @ApiOperation({
    operationId: 'comments_create',
    summary: 'Comment on a post',
    description: 'On any post you can see (your drafts included). You are the author.',
  })
  @ApiCreatedResponse({
    type: CommentResponseDto,
    description: 'The new comment; `Location` names it.',
    headers: {
      Location: {
        description: 'The path of the new comment.',
        schema: { type: 'string', maxLength: 32, example: '/comments/12' },
      },
      ...RATE_LIMIT_HEADERS,
      ...IDEMPOTENT_REPLAYED,
    },
  })
  @ApiProblemResponses(400, { status: 403, detail: VERIFY_EMAIL_FIRST }, 404, 413, 415, CONTENT_ERRORS)
  @VerifiedEmailRequired()
  @Idempotent()
  async create(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', ParseIdPipe) postId: number,
    @Body() body: CreateCommentDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CommentResponseDto> {
    const comment = await this.comments.create(user.id, postId, body.content);
    reply.header('Location', `/comments/${comment.id}`);
    return comment;
  }

  @Get('comments/:id')
  @CommentIdParameter()
  @ApiOperation({
    operationId: 'comments_get',
    summary: 'One comment',
    description: "A comment on a post you can see; one on another user's draft answers 404, as a missing one does.",
  })
  @ApiOkResponse({ type: CommentResponseDto, description: 'The comment.', headers: RATE_LIMIT_HEADERS })
  @ApiProblemResponses(COMMENT_NOT_FOUND, 422)
  findOne(@CurrentUser() user: AuthenticatedUser, @Param('id', ParseIdPipe) id: number): Promise<CommentResponseDto> {
    return this.comments.findVisible(user.id, id);
  }

  @Patch('comments/:id')
  @CommentIdParameter()
  @ApiOperation({
    operationId: 'comments_update',
    summary: 'Change the text of your comment',
    description:
      "Send the new `content`. Only the author may; others (the post's owner and admins too) get 403, and so does " +
      'an author whose e-mail address is not verified when the service requires verified addresses.',
  })
  @ApiOkResponse({ type: CommentResponseDto, description: 'The comment as it is now.', headers: RATE_LIMIT_HEADERS })
  @ApiProblemResponses(
    400,
    { status: 403, detail: 'Only the author of comment 12 may change it.' },
    COMMENT_NOT_FOUND,
    413,
    415,
    CONTENT_ERRORS,
  )
  @VerifiedEmailRequired()
  update(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', ParseIdPipe) id: number,
    @Body() body: UpdateCommentDto,
  ): Promise<CommentResponseDto> {
    return this.comments.update(user.id, id, body.content);
  }

  @Delete('comments/:id')
  @HttpCode(204)
  @CommentIdParameter()
  @ApiOperation({
    operationId: 'comments_delete',
    summary: 'Delete a comment (yours, one on your post, or any as an admin)',
    description:
      "The author may, the post's owner may, and so may an admin; others get 403. An admin's deletion of another " +
      "user's comment shows in the author's activity as `comment_removed_by_admin`.",
  })
  @ApiNoContentResponse({ description: 'Deleted.', headers: RATE_LIMIT_HEADERS })
  @ApiProblemResponses(
    400,
    { status: 403, detail: 'Only the author of comment 12, the owner of its post, or an admin may delete it.' },
    COMMENT_NOT_FOUND,
    413,
    415,
    422,
  )
  remove(@CurrentUser() user: AuthenticatedUser, @Param('id', ParseIdPipe) id: number): Promise<void> {
    return this.comments.remove(user, id);
  }
}
