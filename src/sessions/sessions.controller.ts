import { Controller, Delete, Get, HttpCode, NotFoundException, Param } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiBearerAuthRequired, ApiProblemResponses, ID_PROPERTY, RATE_LIMIT_HEADERS } from '../common/api-problem';
import { ParseIdPipe } from '../common/validation.pipe';
import { SessionsService } from './sessions.service';
import type { AuthenticatedUser, ClientInfo } from '../common/identity/authenticated-user';
import { Client, CurrentUser } from '../common/identity/decorators';
import { SessionResponseDto } from './dto/session-response.dto';

@ApiTags('auth')
@ApiBearerAuthRequired()
@Controller('auth/sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Get()
  @ApiOperation({
    operationId: 'auth_sessions_list',
    summary: 'Your live sessions (one per login)',
    description: 'Every login of your account that has not ended or expired, the most recently used first.',
  })
  @ApiOkResponse({
    type: [SessionResponseDto],
    description: 'Your live sessions; `current` marks this one.',
    headers: RATE_LIMIT_HEADERS,
  })
  async list(@CurrentUser() user: AuthenticatedUser): Promise<SessionResponseDto[]> {
    const sessions = await this.sessions.listLive(user.id);
    return sessions.map((session) => SessionResponseDto.from(session, user.sessionId));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'auth_sessions_delete',
    summary: 'End one of your sessions',
    description: 'Its tokens stop working at once. Ending the current session is a logout.',
  })
  @ApiParam({
    name: 'id',
    description: 'The session id, as GET /auth/sessions lists it.',
    schema: { ...ID_PROPERTY, example: 3 },
  })
  @ApiNoContentResponse({ description: 'The session has ended.', headers: RATE_LIMIT_HEADERS })
  @ApiProblemResponses(
    400,
    { status: 404, detail: 'You have no live session with id 3; GET /auth/sessions lists them.' },
    413,
    415,
    { status: 422, errors: [{ field: 'id', message: 'id must be a positive integer no larger than 2147483647' }] },
  )
  async revoke(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', ParseIdPipe) id: number,
    @Client() client: ClientInfo,
  ): Promise<void> {
    if (!(await this.sessions.revoke(user.id, id, id === user.sessionId ? 'logout' : 'session_ended', client))) {
      throw new NotFoundException(`You have no live session with id ${id}; GET /auth/sessions lists them.`);
    }
  }
}
