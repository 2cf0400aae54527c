import { Global, Module } from '@nestjs/common';
import { Counters } from './counters';

/** The counters behind every limit, shared by the features (login limits) and the entrance (request limit). */
@Global()
@Module({ providers: [Counters], exports: [Counters] })
export class RateLimitModule {}
