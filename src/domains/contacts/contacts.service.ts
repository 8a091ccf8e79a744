// Contacts: a user's address book of other users, with their public profile and
// live presence. Blocking is a flag on the blocker's own row; its effects (no
// invites, no restricted-link joins) are enforced where those happen, through
// app.is_blocked_by() / app.is_contact_of().
import type { Database } from '../../db/database.ts';
import { conflict, notFound, validation } from '../../errors.ts';
import { decodeCursor, page } from '../../http/pagination.ts';
import * as repo from './contacts.repo.ts';

export interface ContactView {
  contact_id: string;
  contact_user_id: string;
  contact: { aura_id: string | null; display_name: string | null; avatar_url: string | null; in_call: boolean };
  relationship_type: 'friend' | 'colleague';
  nickname: string | null;
  is_favorite: boolean;
  is_blocked: boolean;
  notes: string | null;
  tags: string[];
  created_at: string;
  updated_at: string;
}

export interface NewContact extends repo.ContactFields {
  contact_user_id?: string;
  aura_id?: string;
}

export interface ContactQuery {
  relationship_type?: 'friend' | 'colleague';
  is_favorite?: boolean;
  is_blocked?: boolean;
  tag?: string;
  q?: string;
  limit?: number;
  cursor?: string;
}

const view = (r: repo.ContactRow): ContactView => ({
  contact_id: r.contact_id,
  contact_user_id: r.contact_user_id,
  contact: { aura_id: r.aura_id, display_name: r.display_name, avatar_url: r.avatar_url, in_call: r.in_call },
  relationship_type: r.relationship_type,
  nickname: r.nickname,
  is_favorite: r.is_favorite,
  is_blocked: r.is_blocked,
  notes: r.notes,
  tags: r.tags,
  created_at: r.created_at,
  updated_at: r.updated_at,
});

// Tags are compared exactly; normalising here keeps "Work" and "work " one tag.
const normaliseTags = (tags: string[] | undefined) =>
  tags === undefined ? undefined : [...new Set(tags.map((t) => t.trim().toLowerCase()).filter(Boolean))];

// Matches what app.search_words() strips; a q of only punctuation searches nothing.
const hasSearchableWord = (q: string) => q.replace(/[!-/:-@[-`{-~\s]+/g, '').length > 0;

const pgCode = (err: unknown) => (err as { code?: string }).code;

export class ContactsService {
  constructor(private readonly db: Database) {}

  async add(userId: string, input: NewContact): Promise<ContactView> {
    if ((input.contact_user_id === undefined) === (input.aura_id === undefined)) {
      throw validation('Give exactly one of contact_user_id or aura_id');
    }
    if (input.contact_user_id?.toLowerCase() === userId) throw validation('You cannot add yourself as a contact');
    const fields = { ...input, tags: normaliseTags(input.tags) };
    try {
      return await this.db.asUser(userId, async (sql) => {
        const other = await repo.findUser(sql, { userId: input.contact_user_id, auraId: input.aura_id });
        if (!other) throw notFound('User');
        if (other === userId) throw validation('You cannot add yourself as a contact');
        const id = await repo.insert(sql, userId, other, fields);
        return view((await repo.findById(sql, id))!);
      });
    } catch (err) {
      // The constraints are the last word when two requests race past the checks above.
      if (pgCode(err) === '23505') throw conflict('That user is already a contact');
      if (pgCode(err) === '23503') throw notFound('User');
      if (pgCode(err) === '23514' && /no_self/.test((err as { constraint?: string }).constraint ?? '')) {
        throw validation('You cannot add yourself as a contact');
      }
      throw err;
    }
  }

  async get(userId: string, contactId: string): Promise<ContactView> {
    const row = await this.db.asUserOne(userId, (sql) => repo.findById(sql, contactId));
    if (!row) throw notFound('Contact');
    return view(row);
  }

  async update(userId: string, contactId: string, patch: repo.ContactFields): Promise<ContactView> {
    const fields = { ...patch, tags: normaliseTags(patch.tags) };
    return this.db.asUser(userId, async (sql) => {
      if (!(await repo.update(sql, contactId, fields))) throw notFound('Contact');
      return view((await repo.findById(sql, contactId))!);
    });
  }

  async remove(userId: string, contactId: string): Promise<void> {
    const gone = await this.db.asUser(userId, (sql) => repo.remove(sql, contactId));
    if (!gone) throw notFound('Contact');
  }

  async list(userId: string, query: ContactQuery): Promise<{ contacts: ContactView[]; next_cursor: string | null }> {
    const limit = query.limit ?? 20;
    const after = decodeCursor(query.cursor, { created_key: 'timestamp', contact_id: 'uuid' });
    const q = query.q?.trim();
    const rows = await this.db.asUserOne(userId, (sql) =>
      repo.list(sql, {
        relationship_type: query.relationship_type,
        is_favorite: query.is_favorite,
        is_blocked: query.is_blocked,
        tag: query.tag?.trim().toLowerCase(),
        q: q && hasSearchableWord(q) ? q : undefined,
        after,
        limit,
      }),
    );
    const { items, nextCursor } = page(rows, limit, (r) => ({ created_key: r.created_key, contact_id: r.contact_id }));
    return { contacts: items.map(view), next_cursor: nextCursor };
  }
}
