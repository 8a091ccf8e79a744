// Users: profile created on first sight from the token's claims, read and edited by
// its owner, and looked up by AuraID as a public profile.
import type { Database } from '../../db/database.ts';
import { conflict, notFound, validation } from '../../errors.ts';
import type { AuthUser } from '../../http/auth.ts';
import * as repo from './users.repo.ts';

export const AURA_ID_RE = /^@[a-zA-Z0-9_-]+\.aura$/;

export type UserView = Omit<repo.UserRow, 'created_at'> & { created_at: string };

const view = (r: repo.UserRow): UserView => ({
  user_id: r.user_id,
  email: r.email,
  aura_id: r.aura_id,
  username: r.username,
  display_name: r.display_name,
  avatar_url: r.avatar_url,
  created_at: r.created_at.toISOString(),
});

export class UsersService {
  // Ids known to have a row; saves a write per request. Bounded, cleared when full.
  private readonly known = new Set<string>();

  constructor(private readonly db: Database) {}

  /** Creates the user's row the first time a token is seen; safe under concurrent first requests. */
  async ensure(user: AuthUser): Promise<void> {
    if (this.known.has(user.id)) return;
    const candidate: repo.NewUser = {
      user_id: user.id,
      email: user.email,
      aura_id: user.auraId && AURA_ID_RE.test(user.auraId) ? user.auraId : null,
      username: user.username,
      display_name: user.displayName ?? user.username ?? user.email?.split('@')[0] ?? null,
    };
    await this.db.asUser(user.id, async (sql) => {
      if (await repo.findById(sql, user.id)) return;
      // Claims may carry an AuraID or username someone else holds: drop those, keep the user.
      for (const field of await repo.takenFields(sql, candidate)) candidate[field] = null;
      await repo.insertIfMissing(sql, candidate);
    }).catch(async (err: { code?: string }) => {
      if (err.code !== '23505') throw err;
      // Lost a race on a unique profile field (or email): create the bare user.
      await this.db.asUser(user.id, (sql) =>
        repo.insertIfMissing(sql, { ...candidate, email: null, aura_id: null, username: null }),
      );
    });
    if (this.known.size > 50_000) this.known.clear();
    this.known.add(user.id);
  }

  async me(userId: string): Promise<UserView> {
    const row = await this.db.asUserOne(userId, (sql) => repo.findById(sql, userId));
    if (!row) throw notFound('User');
    return view(row);
  }

  async updateMe(userId: string, patch: repo.ProfilePatch): Promise<UserView> {
    if (patch.aura_id !== undefined && patch.aura_id !== null && !AURA_ID_RE.test(patch.aura_id)) {
      throw validation('aura_id must look like @name.aura');
    }
    try {
      const row = await this.db.asUser(userId, (sql) => repo.update(sql, userId, patch));
      if (!row) throw notFound('User');
      return view(row);
    } catch (err) {
      if ((err as { code?: string }).code === '23505') {
        const field = /aura_id/.test((err as { constraint?: string }).constraint ?? '') ? 'aura_id' : 'username';
        throw conflict(`That ${field} is already taken`, { field });
      }
      throw err;
    }
  }

  async lookup(userId: string, auraId: string): Promise<repo.PublicProfile> {
    const p = await this.db.asUser(userId, (sql) => repo.profileByAuraId(sql, auraId));
    if (!p) throw notFound('User');
    return p;
  }
}
