// Invite links: made, listed, edited and deleted by the call's creator (RLS:
// created_by = the caller). The public side of a link lives in join.service.ts.
import crypto from 'node:crypto';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import { conflict, forbidden, notFound, validation } from '../../errors.ts';
import { decodeCursor, page } from '../../http/pagination.ts';
import { dayRange, type RangeQuery } from '../admin/admin.service.ts';
import * as repo from './links.repo.ts';
import { hashPassword } from './password.ts';

type AccessType = repo.LinkRow['access_type'];
type Role = repo.LinkRow['default_role'];

export interface NewLinkInput {
  call_id: string;
  link_type?: 'room' | 'call';
  title?: string;
  description?: string;
  access_type?: AccessType;
  password?: string;
  max_uses?: number;
  expires_in_seconds?: number;
  default_role?: Role;
  require_approval?: boolean;
}

export interface LinkPatchInput {
  title?: string | null;
  description?: string | null;
  access_type?: AccessType;
  password?: string;
  max_uses?: number | null;
  expires_in_seconds?: number | null;
  default_role?: Role;
  require_approval?: boolean;
  is_active?: boolean;
}

/** 12 characters of base64url from 9 CSPRNG bytes: 72 bits, URL-safe. */
export function newShortCode(): string {
  return crypto.randomBytes(9).toString('base64url');
}

const pgCode = (err: unknown) => (err as { code?: string }).code;

export class LinksService {
  constructor(
    private readonly db: Database,
    private readonly config: Config,
  ) {}

  view(r: repo.LinkRow) {
    return {
      link_id: r.link_id,
      short_code: r.short_code,
      url: `${this.config.publicBaseUrl}/api/v1/join/${r.short_code}`,
      call_id: r.call_id,
      link_type: r.link_type,
      title: r.title,
      description: r.description,
      access_type: r.access_type,
      max_uses: r.max_uses,
      current_uses: r.current_uses,
      expires_at: r.expires_at?.toISOString() ?? null,
      default_role: r.default_role,
      require_approval: r.require_approval,
      is_active: r.is_active,
      total_clicks: r.total_clicks,
      unique_visitors: r.unique_visitors,
      last_used_at: r.last_used_at?.toISOString() ?? null,
      created_at: r.created_at.toISOString(),
    };
  }

  async create(userId: string, input: NewLinkInput) {
    const accessType = input.access_type ?? 'public';
    if (accessType === 'password' && !input.password) throw validation('A password link needs a password');
    if (accessType !== 'password' && input.password !== undefined) {
      throw validation('password is only for access_type "password"');
    }
    const passwordHash = input.password ? await hashPassword(input.password) : null;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.asUser(userId, async (sql) => {
          const owner = await repo.callOwnership(sql, input.call_id, userId);
          if (owner === 'none') throw notFound('Call');
          if (owner !== 'creator') throw forbidden("Only the call's creator makes links");
          const row = await repo.insert(sql, {
            short_code: newShortCode(),
            call_id: input.call_id,
            created_by: userId,
            link_type: input.link_type ?? 'room',
            title: input.title ?? null,
            description: input.description ?? null,
            access_type: accessType,
            password_hash: passwordHash,
            max_uses: input.max_uses ?? null,
            expires_in_seconds: input.expires_in_seconds ?? null,
            default_role: input.default_role ?? 'participant',
            require_approval: input.require_approval ?? false,
          });
          return this.view(row);
        });
      } catch (err) {
        // A short-code collision (2^-72 a pair) is retried with a new code.
        if (pgCode(err) === '23505' && attempt < 3) continue;
        throw err;
      }
    }
  }

  async list(userId: string, q: { call_id?: string; limit?: number; cursor?: string }) {
    const limit = q.limit ?? 20;
    const after = decodeCursor(q.cursor, { created_key: 'timestamp', link_id: 'uuid' });
    const rows = await this.db.asUser(userId, (sql) => repo.list(sql, { callId: q.call_id, after, limit }));
    const { items, nextCursor } = page(rows, limit, (r) => ({ created_key: r.created_key, link_id: r.link_id }));
    return { links: items.map((r) => this.view(r)), next_cursor: nextCursor };
  }

  async get(userId: string, linkId: string) {
    const row = await this.db.asUser(userId, (sql) => repo.findById(sql, linkId));
    if (!row) throw notFound('Link');
    return this.view(row);
  }

  async update(userId: string, linkId: string, patch: LinkPatchInput) {
    const passwordHash = patch.password !== undefined ? await hashPassword(patch.password) : undefined;
    try {
      return await this.db.asUser(userId, async (sql) => {
        const current = await repo.findById(sql, linkId);
        if (!current) throw notFound('Link');
        const accessType = patch.access_type ?? current.access_type;
        if (accessType === 'password' && !passwordHash && !current.password_hash) {
          throw validation('A password link needs a password');
        }
        if (accessType !== 'password' && patch.password !== undefined) {
          throw validation('password is only for access_type "password"');
        }
        if (patch.max_uses != null && patch.max_uses < current.current_uses) {
          throw conflict('max_uses is below the uses already made', { current_uses: current.current_uses });
        }
        await repo.update(sql, linkId, {
          title: patch.title,
          description: patch.description,
          access_type: patch.access_type,
          // Leaving password access drops the hash; nothing keeps a secret it no longer needs.
          password_hash: accessType === 'password' ? passwordHash : null,
          max_uses: patch.max_uses,
          expires_in_seconds: patch.expires_in_seconds,
          default_role: patch.default_role,
          require_approval: patch.require_approval,
          is_active: patch.is_active,
        });
        return this.view((await repo.findById(sql, linkId))!);
      });
    } catch (err) {
      if (pgCode(err) === '23514') throw conflict('max_uses is below the uses already made');
      throw err;
    }
  }

  /** Clicks and unique visitors per UTC day with visits, `from`..`to` inclusive (default: 30 days). */
  async stats(userId: string, linkId: string, q: RangeQuery) {
    const range = dayRange(q, new Date());
    const days = await this.db.asUser(userId, async (sql) =>
      (await repo.findById(sql, linkId)) ? repo.visitDays(sql, linkId, range.from, range.to) : null,
    );
    if (!days) throw notFound('Link');
    return { link_id: linkId, days: days.map(({ link_id: _, ...d }) => d) };
  }

  async remove(userId: string, linkId: string): Promise<void> {
    if (!(await this.db.asUser(userId, (sql) => repo.remove(sql, linkId)))) throw notFound('Link');
  }
}
