import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ActivityModule } from '../activity/activity.module';
import { SessionsModule } from '../sessions/sessions.module';
import { User } from '../users/user.entity';
import { AdminController } from './admin.controller';
import { AdminService } from './admin.service';

/** `/admin/users`: the accounts, their roles, disabling and enabling (admins only). */
@Module({
  imports: [TypeOrmModule.forFeature([User]), SessionsModule, ActivityModule],
  controllers: [AdminController],
  providers: [AdminService],
})
export class AdminModule {}
