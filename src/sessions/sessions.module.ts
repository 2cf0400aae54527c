import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Session } from './session.entity';
import { SessionsController } from './sessions.controller';
import { SessionCache } from './session-cache';
import { SessionsService } from './sessions.service';

/** Sessions: the table, its rules, and `/auth/sessions`; logging in and out is AuthModule's. */
@Module({
  imports: [TypeOrmModule.forFeature([Session])],
  controllers: [SessionsController],
  providers: [SessionsService, SessionCache],
  exports: [SessionsService],
})
export class SessionsModule {}
