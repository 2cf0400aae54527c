import { Module } from '@nestjs/common';
import { ClientRateLimit } from './client-rate-limit';

@Module({ providers: [ClientRateLimit], exports: [ClientRateLimit] })
export class RateLimitModule {}
