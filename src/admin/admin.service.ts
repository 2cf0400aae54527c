import { ConflictException, ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, type EntityManager, Repository } from 'typeorm';
import { ActivityService } from '../activity/activity.service';
import { type AuthenticatedUser, BY_AN_ADMIN } from '../common/identity/authenticated-user';
import { ADMINS_ONLY } from '../common/identity/roles';
import { escapeLikePattern } from '../common/like-pattern';
import { SessionsService } from '../sessions/sessions.service';
import { User, type UserRole } from '../users/user.entity';

export const LAST_ADMIN =
  'This is the last admin who can log in: make another account an admin (or enable a disabled admin) first, so that someone can still manage the service.';
export const NOT_YOURSELF = 'You cannot disable your own account; another admin can.';

function noSuchUser(id: number): NotFoundException {
  return new NotFoundException(`There is no user with id ${id}; GET /admin/users lists them.`);
}

/** What admins do to accounts: list them, change roles, disable and enable them. */
@Injectable()
export class AdminService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly sessions: SessionsService,
    private readonly activity: ActivityService,
  ) {}

  /** A page of users, newest first, after the user `beforeId`; `search` in the e-mail or the username. */
  list(limit: number, search: string, beforeId?: string): Promise<User[]> {
    const query = this.users.createQueryBuilder('user').orderBy('user.id', 'DESC').take(limit);
    if (beforeId !== undefined) {
      query.andWhere('user.id < :beforeId', { beforeId });
    }
    if (search) {
      const pattern = `%${escapeLikePattern(search.toLowerCase())}%`;
      query.andWhere(
        new Brackets((match) =>
          match
            .where("lower(user.email) LIKE :pattern ESCAPE '\\'", { pattern })
            .orWhere("user.username LIKE :pattern ESCAPE '\\'", { pattern }),
        ),
      );
    }
    return query.getMany();
  }

  /**
   * Sets the role. The admins' rows are locked first, so that two admins demoting each
   * other at once take turns and the second finds itself the last (409). Only enabled
   * admins count: demoting the last admin who can still log in is refused too.
   */
  async changeRole(admin: AuthenticatedUser, id: number, role: UserRole): Promise<User> {
    const changed = await this.users.manager.transaction(async (manager) => {
      const admins = await this.lockAdmins(manager, admin);
      const user = await this.lockUser(manager, id);
      if (user.role === role) {
        return user;
      }
      const otherEnabledAdmins = admins.filter((admin) => admin.id !== id && admin.disabledAt === null);
      if (role === 'user' && otherEnabledAdmins.length === 0) {
        throw new ConflictException(LAST_ADMIN);
      }
      await manager.update(User, { id }, { role });
      await this.activity.record(manager, id, 'role_changed', BY_AN_ADMIN);
      return { ...user, role };
    });
    this.sessions.forgetCached(id);
    return changed;
  }

  /**
   * Disables the account: its credentials change (a login in flight starts no session),
   * every session ends, and its tokens give 401 from the next request on, on every
   * instance (the token check reads the session and the account in the database).
   */
  async disable(admin: AuthenticatedUser, id: number): Promise<User> {
    if (admin.id === id) {
      throw new ConflictException(NOT_YOURSELF);
    }
    const disabled = await this.users.manager.transaction(async (manager) => {
      await this.lockAdmins(manager, admin);
      const user = await this.lockUser(manager, id);
      if (user.disabledAt) {
        return user;
      }
      const disabledAt = new Date();
      await manager.update(User, { id }, { disabledAt, credentialVersion: () => 'credential_version + 1' });
      await this.sessions.revokeAll(id, manager);
      await this.activity.record(manager, id, 'account_disabled', BY_AN_ADMIN);
      return { ...user, disabledAt };
    });
    this.sessions.forgetCached(id);
    return disabled;
  }

  async enable(admin: AuthenticatedUser, id: number): Promise<User> {
    const enabled = await this.users.manager.transaction(async (manager) => {
      await this.lockAdmins(manager, admin);
      const user = await this.lockUser(manager, id);
      if (!user.disabledAt) {
        return user;
      }
      await manager.update(User, { id }, { disabledAt: null });
      await this.activity.record(manager, id, 'account_enabled', BY_AN_ADMIN);
      return { ...user, disabledAt: null };
    });
    this.sessions.forgetCached(id);
    return enabled;
  }

  /**
   * Locks the admins' rows, in id order, for the rest of the transaction: the changes of
   * roles and of disabled accounts take turns. The caller must still be an enabled admin
   * then (another admin may have demoted or disabled them since the guard looked): 403.
   */
  private async lockAdmins(manager: EntityManager, caller: AuthenticatedUser): Promise<User[]> {
    const admins = await manager
      .createQueryBuilder(User, 'user')
      .select(['user.id', 'user.disabledAt'])
      .where("user.role = 'admin'")
      .orderBy('user.id')
      .setLock('for_no_key_update')
      .getMany();
    if (!admins.some((admin) => admin.id === caller.id && admin.disabledAt === null)) {
      throw new ForbiddenException(ADMINS_ONLY);
    }
    return admins;
  }

  private async lockUser(manager: EntityManager, id: number): Promise<User> {
    const user = await manager.findOne(User, { where: { id }, lock: { mode: 'for_no_key_update' } });
    if (!user) {
      throw noSuchUser(id);
    }
    return user;
  }
}
