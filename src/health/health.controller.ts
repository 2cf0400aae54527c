import { Controller, Get, HttpStatus } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Public } from '../auth/decorators';
import { ApiProblemResponses } from '../common/api-problem';
import { ProblemException } from '../common/problem';

class HealthDto {
  @ApiProperty({ enum: ['ok'], description: 'The service answers.', example: 'ok' })
  status: 'ok';

  @ApiProperty({ enum: ['up'], description: 'The database answers too.', example: 'up' })
  database: 'up';
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
  ) {}

  @Public()
  @Get()
  @ApiOperation({
    operationId: 'health_check',
    summary: 'Whether the service and its database answer',
    description: 'While the database cannot be reached: 503 problem+json with `"database": "down"`.',
  })
  @ApiOkResponse({ type: HealthDto, description: 'The service and its database answer.' })
  @ApiProblemResponses({
    status: 503,
    detail: 'The database cannot be reached; the service keeps running and recovers when the database is back.',
    extensions: { database: 'down' },
  })
  async check(): Promise<HealthDto> {
    try {
      await this.health.check([() => this.database.pingCheck('database', { timeout: 2_000 })]);
    } catch {
      throw new ProblemException(
        HttpStatus.SERVICE_UNAVAILABLE,
        'The database cannot be reached; the service keeps running and recovers when the database is back.',
        { 'Retry-After': '5' },
        { database: 'down' },
      );
    }
    return { status: 'ok', database: 'up' };
  }
}
