import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from 'typebox';
import { requireUser } from '../../http/authenticate.ts';
import { bearer, errorResponses, Nullable, PageQuery, Timestamp, Uuid } from '../../http/schemas.ts';
import type { ContactsService } from './contacts.service.ts';

const Relationship = Type.Union([Type.Literal('friend'), Type.Literal('colleague')]);
const Tag = Type.String({ minLength: 1, maxLength: 64 });

const Editable = {
  relationship_type: Type.Optional(Relationship),
  nickname: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
  notes: Type.Optional(Nullable(Type.String({ maxLength: 4000 }))),
  tags: Type.Optional(Type.Array(Tag, { maxItems: 50 })),
  is_favorite: Type.Optional(Type.Boolean()),
  is_blocked: Type.Optional(Type.Boolean()),
};

const NewContact = Type.Object(
  {
    contact_user_id: Type.Optional(Uuid),
    aura_id: Type.Optional(Type.String({ pattern: '^@[a-zA-Z0-9_-]+\\.aura$', maxLength: 64 })),
    ...Editable,
  },
  { additionalProperties: false },
);

const ContactPatch = Type.Object(Editable, { additionalProperties: false, minProperties: 1 });

const Contact = Type.Object({
  contact_id: Uuid,
  contact_user_id: Uuid,
  contact: Type.Object({
    aura_id: Nullable(Type.String()),
    display_name: Nullable(Type.String()),
    avatar_url: Nullable(Type.String()),
    in_call: Type.Boolean({ description: 'In a waiting or active call right now (false if they blocked you)' }),
  }),
  relationship_type: Relationship,
  nickname: Nullable(Type.String()),
  is_favorite: Type.Boolean(),
  is_blocked: Type.Boolean(),
  notes: Nullable(Type.String()),
  tags: Type.Array(Type.String()),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const ListQuery = Type.Object(
  {
    relationship_type: Type.Optional(Relationship),
    is_favorite: Type.Optional(Type.Boolean()),
    is_blocked: Type.Optional(Type.Boolean()),
    tag: Type.Optional(Tag),
    q: Type.Optional(
      Type.String({ maxLength: 100, description: 'Word prefixes matched against nickname, display name and AuraID' }),
    ),
    ...PageQuery,
  },
  { additionalProperties: false },
);

const Params = Type.Object({ contact_id: Uuid });
const tags = ['contacts'];

export const contactsRoutes: FastifyPluginAsync<{ contacts: ContactsService }> = async (app, { contacts }) => {
  // Anonymous callers get 401 before their input is judged.
  app.addHook('preValidation', async (request) => {
    requireUser(request);
  });

  app.post<{ Body: Static<typeof NewContact> }>(
    '/contacts',
    {
      schema: {
        tags,
        summary: 'Add a contact',
        security: bearer,
        description: 'Add a contact by contact_user_id or aura_id (exactly one). Yourself is 400, an unknown user 404, a duplicate 409.',
        body: NewContact,
        response: { 201: Contact, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => reply.code(201).send(await contacts.add(requireUser(request).id, request.body)),
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/contacts',
    {
      schema: {
        tags,
        summary: 'List my contacts',
        security: bearer,
        querystring: ListQuery,
        response: { 200: Type.Object({ contacts: Type.Array(Contact), next_cursor: Nullable(Type.String()) }), ...errorResponses() },
      },
    },
    async (request) => contacts.list(requireUser(request).id, request.query),
  );

  app.get<{ Params: Static<typeof Params> }>(
    '/contacts/:contact_id',
    { schema: { tags, summary: 'Get a contact', security: bearer, params: Params, response: { 200: Contact, ...errorResponses(404) } } },
    async (request) => contacts.get(requireUser(request).id, request.params.contact_id),
  );

  app.put<{ Params: Static<typeof Params>; Body: Static<typeof ContactPatch> }>(
    '/contacts/:contact_id',
    {
      schema: {
        tags,
        summary: 'Update a contact (partial)',
        security: bearer,
        params: Params,
        body: ContactPatch,
        response: { 200: Contact, ...errorResponses(404) },
      },
    },
    async (request) => contacts.update(requireUser(request).id, request.params.contact_id, request.body),
  );

  app.delete<{ Params: Static<typeof Params> }>(
    '/contacts/:contact_id',
    {
      schema: {
        tags,
        summary: 'Remove a contact',
        security: bearer,
        params: Params,
        response: { 204: Type.Null({ description: 'Removed' }), ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      await contacts.remove(requireUser(request).id, request.params.contact_id);
      return reply.code(204).send();
    },
  );
};
