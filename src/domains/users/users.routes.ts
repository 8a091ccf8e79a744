import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from 'typebox';
import { requireUser } from '../../http/authenticate.ts';
import { bearer, errorResponses, Nullable, Timestamp, Uuid } from '../../http/schemas.ts';
import type { UsersService } from './users.service.ts';

const AuraId = Type.String({ pattern: '^@[a-zA-Z0-9_-]+\\.aura$', maxLength: 64, examples: ['@bob.aura'] });

const User = Type.Object({
  user_id: Uuid,
  email: Nullable(Type.String()),
  aura_id: Nullable(Type.String()),
  username: Nullable(Type.String()),
  display_name: Nullable(Type.String()),
  avatar_url: Nullable(Type.String()),
  created_at: Timestamp,
});

const PublicProfile = Type.Object({
  user_id: Uuid,
  aura_id: Nullable(Type.String()),
  display_name: Nullable(Type.String()),
  avatar_url: Nullable(Type.String()),
});

const ProfilePatch = Type.Object(
  {
    display_name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 255 }))),
    avatar_url: Type.Optional(Nullable(Type.String({ format: 'uri', maxLength: 2048 }))),
    aura_id: Type.Optional(AuraId),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-zA-Z0-9_.-]+$' })),
  },
  { additionalProperties: false },
);

export const usersRoutes: FastifyPluginAsync<{ users: UsersService }> = async (app, { users }) => {
  app.get(
    '/users/me',
    {
      schema: {
        tags: ['users'],
        summary: 'The signed-in user\'s profile',
        description: 'Created from the token\'s claims the first time the user is seen.',
        security: bearer,
        response: { 200: User, ...errorResponses(404) },
      },
    },
    async (request) => users.me(requireUser(request).id),
  );

  app.put<{ Body: Static<typeof ProfilePatch> }>(
    '/users/me',
    {
      schema: {
        tags: ['users'],
        summary: 'Update the own profile (partial)',
        description: 'Only the fields sent change; a taken aura_id is 409.',
        security: bearer,
        body: ProfilePatch,
        response: { 200: User, ...errorResponses(404, 409) },
      },
    },
    async (request) => users.updateMe(requireUser(request).id, request.body),
  );

  app.get<{ Querystring: { aura_id: string } }>(
    '/users/lookup',
    {
      schema: {
        tags: ['users'],
        summary: 'Find a user\'s public profile by AuraID',
        security: bearer,
        querystring: Type.Object({ aura_id: AuraId }),
        response: { 200: PublicProfile, ...errorResponses(404) },
      },
    },
    async (request) => {
      const p = await users.lookup(requireUser(request).id, request.query.aura_id);
      return { user_id: p.user_id, aura_id: p.aura_id, display_name: p.display_name, avatar_url: p.avatar_url };
    },
  );
};
