// The public side of invite links: preview, join, and the waiting room.
//
// Joining decides access in the joiner's own scope (anonymous for guests) through
// the narrow functions of migration 004, then admits in one privileged transaction:
// the link, not the joiner's membership, is the authority there (a stranger may not
// yet see a private call under RLS), and doing the atomic use-claim and grantJoin
// together means a refused grant (ROOM_FULL, CALL_ENDED) gives the use back.
import crypto from 'node:crypto';
import type { AuthUser } from '../../http/auth.ts';
import type { Database, Sql } from '../../db/database.ts';
import { AppError, forbidden, notFound, rateLimited, unauthorized, validation } from '../../errors.ts';
import { decodeCursor, page, UUID_RE } from '../../http/pagination.ts';
import { grantJoin, type JoinDeps, type JoinToken } from '../rooms/join.ts';
import * as requests from './join-requests.repo.ts';
import * as repo from './links.repo.ts';
import { verifyPassword } from './password.ts';

// Password guesses per link and client address within this window (count: config).
export const PASSWORD_WINDOW_SECONDS = 15 * 60;

export interface Client {
  ip: string;
  userAgent: string;
}

const gone = (reason: string) => new AppError('LINK_GONE', 'This link has expired, been used up or been switched off', { reason });
const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest();

export class JoinService {
  constructor(
    private readonly db: Database,
    private readonly deps: JoinDeps,
  ) {}

  private get links() {
    return this.deps.config.links;
  }

  async preview(user: AuthUser | null, code: string, client: Client) {
    const p = await this.db.asUser(user?.id ?? null, (sql) => repo.visit(sql, code, `${client.ip}\n${client.userAgent}`));
    if (!p) throw notFound('Link');
    if (!p.live) throw gone('inactive');
    return {
      title: p.title,
      description: p.description,
      name: p.name,
      call_type: p.call_type,
      access_type: p.access_type,
      requires_password: p.requires_password,
      require_approval: p.require_approval,
      expires_at: p.expires_at?.toISOString() ?? null,
    };
  }

  async join(
    user: AuthUser | null,
    code: string,
    body: { display_name?: string; password?: string },
    client: Client,
  ): Promise<{ status: 200; body: JoinToken } | { status: 202; body: Record<string, unknown> }> {
    const userId = user?.id ?? null;
    const link = await this.db.asUser(userId, async (sql) => {
      const l = await repo.forJoin(sql, code);
      if (!l) throw notFound('Link');
      if (!l.live) throw gone('inactive');
      if (l.access_type === 'restricted' && userId !== l.created_by) {
        if (!userId) throw unauthorized('Sign in to use this link');
        if (!(await repo.isContactOf(sql, l.created_by))) throw forbidden('This link is for the creator’s contacts');
      }
      return l;
    });
    if (link.access_type === 'password') await this.checkPassword(userId, link, body.password, client);

    const displayName = body.display_name ?? user?.displayName ?? user?.username ?? null;
    if (!displayName) throw validation('display_name is required');
    const role = userId === link.created_by ? 'host' : link.default_role;

    if (link.require_approval && userId !== link.created_by) {
      const secret = crypto.randomBytes(24).toString('base64url');
      const created = await this.db.asUser(userId, (sql) =>
        requests.create(sql, {
          linkId: link.link_id,
          displayName,
          role,
          secretHash: sha256(secret),
          ttlSeconds: this.links.joinRequestTtlSeconds,
        }),
      );
      if (!created) throw gone('inactive');
      return {
        status: 202,
        body: {
          request_id: created.request_id,
          status: 'pending',
          request_secret: secret,
          expires_at: created.expires_at.toISOString(),
        },
      };
    }

    const token = await this.db.privileged(async (sql) => {
      if (!(await repo.claimUse(sql, link.link_id))) throw gone('used_up');
      return grantJoin(sql, this.deps, link.call_id, {
        userId,
        identity: userId ?? `guest-${crypto.randomBytes(12).toString('base64url')}`,
        displayName,
        role,
        metadata: null,
      });
    });
    return { status: 200, body: token };
  }

  /** Counted before checking, so parallel guesses cannot exceed the limit; scrypt runs outside any transaction. */
  private async checkPassword(userId: string | null, link: repo.JoinableLink, password: string | undefined, client: Client) {
    if (password === undefined) throw new AppError('INVALID_PASSWORD', 'This link needs a password');
    const wait = await this.db.asUser(userId, (sql) =>
      repo.passwordAttempt(sql, link.link_id, client.ip, PASSWORD_WINDOW_SECONDS, this.links.passwordAttemptsPerWindow),
    );
    if (wait > 0) throw rateLimited(wait);
    if (!link.password_hash || !(await verifyPassword(password, link.password_hash))) {
      throw new AppError('INVALID_PASSWORD', 'Wrong password');
    }
    await this.db.asUser(userId, (sql) => repo.passwordPassed(sql, link.link_id, client.ip));
  }

  /**
   * The requester's view. Privileged because a guest has no user: the request id and
   * its secret together are the credential, and both are in every WHERE. The token
   * is handed out once; minting and marking it happen in one transaction.
   */
  async poll(code: string, requestId: string, secret: string | undefined) {
    if (!secret) throw notFound('Join request');
    const hash = sha256(secret);
    return this.db.privileged(async (sql) => {
      const taken = await requests.takeToken(sql, requestId, hash);
      if (taken) {
        const token = await grantJoin(sql, this.deps, taken.call_id, {
          userId: taken.user_id,
          identity: taken.user_id ?? `guest-${crypto.randomBytes(12).toString('base64url')}`,
          displayName: taken.display_name,
          role: taken.role,
          metadata: null,
        });
        await requests.setParticipant(sql, requestId, token.participant_id);
        return { request_id: requestId, status: 'approved', ...token };
      }
      const r = await requests.findBySecret(sql, requestId, hash);
      const link = r && (await repo.forJoin(sql, code));
      if (!r || !link || link.link_id !== r.link_id) throw notFound('Join request');
      if (r.expired) throw gone('request_expired');
      return {
        request_id: requestId,
        status: r.status,
        expires_at: r.expires_at.toISOString(),
        ...(r.token_issued_at ? { token_issued_at: r.token_issued_at.toISOString() } : {}),
      };
    });
  }

  private async creatorScope<T>(userId: string, roomId: string, fn: (sql: Sql, callId: string) => Promise<T>) {
    return this.db.asUser(userId, async (sql) => {
      const call = await requests.resolveRoom(sql, roomId, UUID_RE.test(roomId));
      if (!call) throw notFound('Room');
      if (call.created_by !== userId) throw forbidden("Only the room's creator decides join requests");
      return fn(sql, call.call_id);
    });
  }

  async listRequests(userId: string, roomId: string, q: { status?: requests.StatusFilter; limit?: number; cursor?: string }) {
    const limit = q.limit ?? 20;
    const after = decodeCursor(q.cursor, { created_key: 'timestamp', request_id: 'uuid' });
    const rows = await this.creatorScope(userId, roomId, (sql, callId) =>
      requests.list(sql, { callId, status: q.status ?? 'pending', after, limit }),
    );
    const { items, nextCursor } = page(rows, limit, (r) => ({ created_key: r.created_key, request_id: r.request_id }));
    return { join_requests: items.map(requestView), next_cursor: nextCursor };
  }

  async decide(userId: string, roomId: string, requestId: string, decision: 'approved' | 'denied') {
    return this.creatorScope(userId, roomId, async (sql, callId) => {
      const current = await requests.findInCall(sql, callId, requestId);
      if (!current) throw notFound('Join request');
      const r = await requests.decide(sql, requestId, decision, userId, this.links.joinRequestTtlSeconds);
      if (!r) {
        throw new AppError('CONFLICT', current.expired ? 'The request has expired' : `The request is already ${current.status}`);
      }
      // An approval takes a use of the link now, so max_uses bounds what the creator admits.
      if (decision === 'approved' && !(await repo.claimUse(sql, r.link_id))) throw gone('used_up');
      await requests.announce(sql, r.request_id);
      return requestView(r);
    });
  }
}

function requestView(r: requests.RequestRow) {
  return {
    request_id: r.request_id,
    link_id: r.link_id,
    call_id: r.call_id,
    user_id: r.user_id,
    display_name: r.display_name,
    role: r.role,
    status: r.expired ? 'expired' : r.status,
    created_at: r.created_at.toISOString(),
    expires_at: r.expires_at.toISOString(),
    decided_at: r.decided_at?.toISOString() ?? null,
    token_issued: r.token_issued_at !== null,
  };
}
