import { Body, Controller, Post, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { type AuthenticatedUser, VERIFY_EMAIL_FIRST } from '../common/identity/authenticated-user';
import { CurrentUser, VerifiedEmailRequired } from '../common/identity/decorators';
import { ApiBearerAuthRequired, ApiProblemResponses, RATE_LIMIT_HEADERS } from '../common/api-problem';
import { IDEMPOTENT_REPLAYED, Idempotent } from '../idempotency/idempotent.decorator';
import { VoteDto, VoteResultDto } from './dto/vote.dto';
import { VotesService } from './votes.service';

@ApiTags('votes')
@Controller('vote')
export class VotesController {
  constructor(private readonly votes: VotesService) {}

  @Post()
  @ApiBearerAuthRequired()
  @ApiOperation({
    operationId: 'votes_vote',
    summary: 'Vote on a post (dir 1) or take your vote back (dir 0)',
    description: 'One vote per user and post. 201 when a vote was added, 200 when one was removed.',
  })
  @ApiCreatedResponse({
    type: VoteResultDto,
    description: 'Vote added; `Location` names the post.',
    headers: { ...RATE_LIMIT_HEADERS, ...IDEMPOTENT_REPLAYED },
  })
  @ApiOkResponse({
    type: VoteResultDto,
    description: 'Vote removed.',
    headers: { ...RATE_LIMIT_HEADERS, ...IDEMPOTENT_REPLAYED },
  })
  @ApiProblemResponses(400, { status: 403, detail: VERIFY_EMAIL_FIRST }, 404, 413, 415, 422)
  @VerifiedEmailRequired()
  // 409 also when you have already voted on the post.
  @Idempotent({ conflict: 'You have already voted on post 7; send dir 0 to remove your vote.' })
  async vote(
    @CurrentUser() user: AuthenticatedUser,
    @Body() { post_id: postId, dir }: VoteDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<VoteResultDto> {
    if (dir === 1) {
      await this.votes.addVote(user.id, postId);
      reply.header('Location', `/posts/${postId}`);
      return { message: 'Vote added' };
    }
    await this.votes.removeVote(user.id, postId);
    reply.status(200);
    return { message: 'Vote removed' };
  }
}
