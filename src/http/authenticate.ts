// Request authentication: the token is verified in onRequest (so rate limiting can
// key on the user), a bad token is answered after rate limiting, and routes that
// need a user call requireUser().
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, unauthorized } from '../errors.ts';
import { bearerToken, type AuthUser, type Verifier } from './auth.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route reads Authorization itself (e.g. LiveKit's signed webhook header). */
    skipAuth?: boolean;
  }
  interface FastifyRequest {
    user: AuthUser | null;
    authError: AppError | null;
  }
}

export interface AuthenticateOptions {
  verify: Verifier;
  /** Called once per authenticated request before the handler (creates the user on first sight). */
  onUser?: (user: AuthUser) => Promise<void>;
}

export const authenticate = fp<AuthenticateOptions>(async (app: FastifyInstance, opts) => {
  app.decorateRequest('user', null);
  app.decorateRequest('authError', null);
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config?.skipAuth) return;
    try {
      const token = bearerToken(request.headers.authorization);
      if (token) request.user = await opts.verify(token);
    } catch (err) {
      request.authError = err instanceof AppError ? err : unauthorized();
    }
  });
  // preValidation runs after the rate limiter's onRequest hook.
  app.addHook('preValidation', async (request) => {
    if (request.authError) throw request.authError;
    if (request.user && opts.onUser) await opts.onUser(request.user);
  });
});

export function requireUser(request: FastifyRequest): AuthUser {
  if (!request.user) throw unauthorized('Authentication required');
  return request.user;
}
