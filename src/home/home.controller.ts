import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiSchema, ApiTags } from '@nestjs/swagger';
import { ApiProblemResponses, RATE_LIMIT_HEADERS } from '../common/api-problem';
import { Public } from '../common/identity/decorators';
import { APP_CONFIG, type AppConfig } from '../config/configuration';

/** The links of the front door: paths on this instance. */
const LINK = { format: 'uri-reference', maxLength: 256 } as const;

const GETTING_STARTED =
  'Register with POST /users, log in with POST /login, then send the access_token as a bearer token.';

@ApiSchema({ name: 'ServiceLinks' })
class HomeLinksDto {
  @ApiProperty({ ...LINK, description: 'Swagger UI: try every route, log in with "Authorize".', example: '/docs' })
  docs: string;

  @ApiProperty({ ...LINK, description: 'The same document as a readable reference.', example: '/redoc' })
  redoc: string;

  @ApiProperty({ ...LINK, description: 'The OpenAPI 3 document, for client generators.', example: '/openapi.json' })
  openapi: string;

  @ApiProperty({ ...LINK, description: 'Liveness and database check.', example: '/health' })
  health: string;
}

@ApiSchema({ name: 'ServiceHome' })
class HomeDto {
  @ApiProperty({ description: 'The name of the service.', example: 'Posts API', maxLength: 64 })
  name: string;

  @ApiProperty({
    description: 'Its version (semantic versioning, as in package.json).',
    example: '0.1.0',
    pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+([-+][0-9A-Za-z.+-]+)?$',
    maxLength: 64,
  })
  version: string;

  @ApiProperty({
    description: 'Where to begin.',
    maxLength: 256,
    example: GETTING_STARTED,
  })
  message: string;

  @ApiProperty({ type: HomeLinksDto, description: 'The docs, the document and the health check.' })
  links: HomeLinksDto;
}

/** The front door: what a newcomer opening the service's address needs first. */
@ApiTags('service')
@Controller()
export class HomeController {
  private readonly home: HomeDto;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.home = {
      name: 'Posts API',
      version: config.version,
      message: GETTING_STARTED,
      links: { docs: '/docs', redoc: '/redoc', openapi: '/openapi.json', health: '/health' },
    };
  }

  @Public()
  @Get()
  @ApiOperation({
    operationId: 'service_home',
    summary: 'The service, its version and where its docs are',
    description: 'The front door: open it first. It needs no token and reads nothing but the configuration.',
    security: [],
  })
  @ApiOkResponse({ type: HomeDto, description: 'Links to the docs and the health check.', headers: RATE_LIMIT_HEADERS })
  @ApiProblemResponses(429)
  getHome(): HomeDto {
    return this.home;
  }
}
