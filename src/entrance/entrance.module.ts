import { Module } from '@nestjs/common';
import { ClientRateLimit } from './client-rate-limit';

/** The Nest providers the entrance uses (see `Entrance`). */
@Module({ providers: [ClientRateLimit], exports: [ClientRateLimit] })
export class EntranceModule {}
