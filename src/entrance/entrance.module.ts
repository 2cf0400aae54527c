import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ClientRateLimit } from './client-rate-limit';

/** The Nest providers the entrance uses (see `Entrance`). */
@Module({ imports: [DiscoveryModule], providers: [ClientRateLimit], exports: [ClientRateLimit] })
export class EntranceModule {}
