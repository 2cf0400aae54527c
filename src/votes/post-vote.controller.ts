import { Controller, Delete, HttpCode, Param, Put } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiBearerAuthRequired, ApiProblemResponses, ID_PROPERTY, RATE_LIMIT_HEADERS } from '../common/api-problem';
import { type AuthenticatedUser, VERIFY_EMAIL_FIRST } from '../common/identity/authenticated-user';
import { CurrentUser, VerifiedEmailRequired } from '../common/identity/decorators';
import { ParseIdPipe } from '../common/validation.pipe';
import { VotesService } from './votes.service';

const POST_ID = { name: 'id', description: 'The post id: a positive integer.', schema: { ...ID_PROPERTY, example: 7 } };
const NO_SUCH_POST = {
  status: 404,
  detail: 'There is no post with id 7 that you can see; GET /posts lists those you can.',
};
const BAD_ID = {
  status: 422,
  errors: [{ field: 'id', message: 'id must be a positive integer no larger than 2147483647' }],
};

/**
 * The caller's vote on one post as a resource: PUT makes it exist, DELETE makes it not
 * exist, each whatever the state before, so a client may repeat either safely.
 */
@ApiTags('votes')
@ApiBearerAuthRequired()
@Controller('posts/:id/vote')
export class PostVoteController {
  constructor(private readonly votes: VotesService) {}

  @Put()
  @HttpCode(204)
  @VerifiedEmailRequired()
  @ApiOperation({
    operationId: 'votes_put',
    summary: 'Vote for a post (idempotent)',
    description: 'Your vote exists afterwards, whether it did before or not; repeating it changes nothing.',
  })
  @ApiParam(POST_ID)
  @ApiNoContentResponse({ description: 'Your vote is on the post.', headers: RATE_LIMIT_HEADERS })
  @ApiProblemResponses(400, { status: 403, detail: VERIFY_EMAIL_FIRST }, NO_SUCH_POST, 413, 415, BAD_ID)
  put(@CurrentUser() user: AuthenticatedUser, @Param('id', ParseIdPipe) id: number): Promise<void> {
    return this.votes.ensureVote(user.id, id);
  }

  @Delete()
  @HttpCode(204)
  @VerifiedEmailRequired()
  @ApiOperation({
    operationId: 'votes_delete',
    summary: 'Take your vote back (idempotent)',
    description: 'No vote of yours is on the post afterwards, whether there was one or not.',
  })
  @ApiParam(POST_ID)
  @ApiNoContentResponse({ description: 'No vote of yours is on the post.', headers: RATE_LIMIT_HEADERS })
  @ApiProblemResponses(400, { status: 403, detail: VERIFY_EMAIL_FIRST }, NO_SUCH_POST, 413, 415, BAD_ID)
  remove(@CurrentUser() user: AuthenticatedUser, @Param('id', ParseIdPipe) id: number): Promise<void> {
    return this.votes.ensureNoVote(user.id, id);
  }
}
