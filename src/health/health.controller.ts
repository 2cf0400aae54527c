import { Controller, Get, HttpStatus } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiSchema, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Public } from '../common/identity/decorators';
import { ApiProblemResponses, ProblemDetailsDto } from '../common/api-problem';
import { HealthCheckRoute } from '../common/health-check-route';
import { ProblemException } from '../common/problem';
import { Lifecycle } from '../lifecycle/lifecycle.service';
import { Sql } from '../database/sql';
import type { ReplicaStatus } from '../database/replicas';

@ApiSchema({ name: 'Health' })
class HealthDto {
  @ApiProperty({ enum: ['ok'], description: 'The service answers.', example: 'ok' })
  status: 'ok';

  @ApiProperty({ enum: ['up'], description: 'The database answers too.', example: 'up' })
  database: 'up';
}

@ApiSchema({ name: 'ReplicaHealth' })
class ReplicaHealthDto implements ReplicaStatus {
  @ApiProperty({
    description: 'The replica, as `host:port/database` (never the user or the password).',
    example: '10.0.0.12:5432/posts',
    maxLength: 300,
  })
  url: string;

  @ApiProperty({
    enum: ['up', 'lagging', 'down'],
    description:
      '`up`: reads go to it; `lagging`: further behind the primary than REPLICA_MAX_LAG_MS, skipped until it ' +
      'catches up; `down`: it does not answer, skipped until it does. The primary serves what it does not.',
    example: 'up',
  })
  state: 'up' | 'lagging' | 'down';

  @ApiPropertyOptional({
    description:
      'How old the oldest write is that the replica has not replayed, in milliseconds (0: it has all the ' +
      "primary's writes). Absent while it is down.",
    example: 0,
    type: 'integer',
    format: 'int32',
    minimum: 0,
    maximum: 2_147_483_647,
  })
  lag_ms?: number;
}

@ApiSchema({ name: 'Readiness' })
class ReadinessDto {
  @ApiProperty({ enum: ['ready'], description: 'This instance takes requests.', example: 'ready' })
  status: 'ready';

  @ApiPropertyOptional({
    type: [ReplicaHealthDto],
    maxItems: 32,
    description:
      'With DATABASE_REPLICA_URLS: the state of each read replica. Readiness does not depend on them: ' +
      'the primary serves whatever no replica can.',
  })
  replicas?: ReplicaHealthDto[];
}

/** The 503 of GET /health: a problem that says which part is down. */
@ApiSchema({ name: 'HealthProblem' })
class HealthProblemDto extends ProblemDetailsDto {
  @ApiProperty({ enum: ['down'], description: 'The database cannot be reached.', example: 'down' })
  database: 'down';
}

const READINESS_REASONS = ['shutting-down', 'database-down', 'migrations-pending'] as const;

/** The 503 of GET /health/ready: a problem that says why this instance takes no traffic. */
@ApiSchema({ name: 'ReadinessProblem' })
class ReadinessProblemDto extends ProblemDetailsDto {
  @ApiProperty({
    enum: READINESS_REASONS,
    description: 'Why this instance takes no traffic.',
    example: 'shutting-down',
  })
  reason: (typeof READINESS_REASONS)[number];

  @ApiPropertyOptional({
    enum: ['down'],
    description: 'With `reason` `database-down`: the database cannot be reached.',
    example: 'down',
  })
  database?: 'down';
}

const SHUTTING_DOWN = 'This instance is shutting down; send requests to another one.';
const DATABASE_DOWN =
  'The database cannot be reached; the service keeps running and recovers when the database is back.';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly lifecycle: Lifecycle,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sql: Sql,
  ) {}

  @Public()
  @HealthCheckRoute()
  @Get()
  @ApiOperation({
    operationId: 'health_check',
    summary: 'Whether the service and its database answer',
    description: 'While the database cannot be reached: 503 problem+json with `"database": "down"`.',
    security: [],
  })
  @ApiOkResponse({ type: HealthDto, description: 'The service and its database answer.' })
  @ApiProblemResponses({ status: 503, detail: DATABASE_DOWN, extensions: { database: 'down' }, type: HealthProblemDto })
  async check(): Promise<HealthDto> {
    await this.assertDatabaseUp({});
    return { status: 'ok', database: 'up' };
  }

  @Public()
  @HealthCheckRoute()
  @Get('ready')
  @ApiOperation({
    operationId: 'health_ready',
    summary: 'Whether this instance should get traffic',
    description:
      'For load balancers and orchestrators: 200 once the database answers and every migration has run; ' +
      '503 problem+json while the database is unreachable, while migrations are pending, and from the ' +
      'moment the instance starts shutting down (`"reason"` says which). With read replicas, the 200 names ' +
      'the state of each; a replica that is down or lagging does not make the instance unready.',
    security: [],
  })
  @ApiOkResponse({ type: ReadinessDto, description: 'This instance takes requests.' })
  @ApiProblemResponses({
    status: 503,
    detail: SHUTTING_DOWN,
    retryAfter: 5,
    extensions: { reason: 'shutting-down' },
    type: ReadinessProblemDto,
  })
  async ready(): Promise<ReadinessDto> {
    if (this.lifecycle.shuttingDown) {
      throw notReady(SHUTTING_DOWN, 'shutting-down');
    }
    await this.assertDatabaseUp({ reason: 'database-down' });
    if (await this.dataSource.showMigrations().catch(() => true)) {
      throw notReady('Database migrations have not all run yet.', 'migrations-pending');
    }
    const replicas = this.sql.replicaStatuses();
    return replicas ? { status: 'ready', replicas } : { status: 'ready' };
  }

  private async assertDatabaseUp(extensions: Record<string, string>): Promise<void> {
    try {
      await this.health.check([() => this.database.pingCheck('database', { timeout: 2_000 })]);
    } catch {
      throw new ProblemException(
        HttpStatus.SERVICE_UNAVAILABLE,
        DATABASE_DOWN,
        { 'Retry-After': '5' },
        { database: 'down', ...extensions },
      );
    }
  }
}

function notReady(detail: string, reason: string): ProblemException {
  return new ProblemException(HttpStatus.SERVICE_UNAVAILABLE, detail, { 'Retry-After': '5' }, { reason });
}
