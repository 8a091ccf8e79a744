// Public endpoints for the web app: its deployment settings, and the development
// sign-in (a name in, a development token out) that exists only in development.
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from 'typebox';
import { errorResponses, Timestamp, Uuid } from '../../http/schemas.ts';
import type { WebConfigService } from './webconfig.service.ts';

const ClientConfig = Type.Object({
  auth: Type.Object({
    mode: Type.Union([Type.Literal('development'), Type.Literal('supabase'), Type.Literal('external')], {
      description:
        'development: POST /dev/sign-in with a name; supabase: Supabase Auth with the URL and anon key below; ' +
        'external: bring a token from your identity provider',
    }),
    supabase_url: Type.Optional(Type.String()),
    supabase_anon_key: Type.Optional(Type.String({ description: "Supabase's public anon key, meant for browsers" })),
  }),
  livekit: Type.Object({
    configured: Type.Boolean({ description: 'false: rooms, history and files work, calls need LIVEKIT_URL' }),
    url: Type.Optional(Type.String({ description: 'LiveKit URL for clients (ws: or wss:)' })),
  }),
});

const SignInBody = Type.Object(
  {
    name: Type.String({
      pattern: '^[A-Za-z0-9_-]{1,32}$',
      description: 'Development user name; the same name is the same user (AuraID @<name>.aura)',
    }),
    operator: Type.Optional(
      Type.Boolean({
        description: 'Put the configured operator claim (OPERATOR_CLAIM, default app_metadata.role=operator) in the token',
      }),
    ),
  },
  { additionalProperties: false },
);

const SignedIn = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_at: Timestamp,
  user: Type.Object({
    user_id: Uuid,
    email: Type.String(),
    aura_id: Type.String(),
    display_name: Type.String(),
    username: Type.String(),
  }),
});

export const webConfigRoutes: FastifyPluginAsync<{ web: WebConfigService }> = async (app, { web }) => {
  const tags = ['web'];
  app.get(
    '/client-config',
    {
      schema: {
        tags,
        summary: 'Deployment settings for browser clients',
        description: 'How to sign in and whether LiveKit is configured. Public values only; no token needed.',
        response: { 200: ClientConfig, ...errorResponses() },
      },
      config: { skipAuth: true },
    },
    async () => web.clientConfig(),
  );

  app.post<{ Body: Static<typeof SignInBody> }>(
    '/dev/sign-in',
    {
      schema: {
        tags,
        summary: 'Development sign-in by name',
        description:
          'Returns the token `npm run dev-token -- <name>` prints. Exists only while the development JWT secret ' +
          'is in use and NODE_ENV is not production; 404 otherwise.',
        body: SignInBody,
        response: { 200: SignedIn, ...errorResponses(404) },
      },
      config: { skipAuth: true },
    },
    async (request) => web.devSignIn(request.body.name, { operator: request.body.operator === true }),
  );
};
