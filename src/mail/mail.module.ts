import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MailOutbox } from './mail-outbox';
import { MailTransport } from './mail-transport';
import { OutboxMail } from './outbox-mail.entity';

/** Mail that loses nothing: the outbox in PostgreSQL and the worker that empties it. */
@Module({
  imports: [TypeOrmModule.forFeature([OutboxMail])],
  providers: [MailTransport, MailOutbox],
  exports: [MailOutbox],
})
export class MailModule {}
