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
  // Callback-style: a request without a token (health checks, webhooks, guests)
  // finishes both hooks synchronously.
  const failed = (request: FastifyRequest, err: unknown) => {
    request.authError = err instanceof AppError ? err : unauthorized();
  };
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.routeOptions.config?.skipAuth || request.headers.authorization === undefined) return done();
    let token: string | null;
    try {
      token = bearerToken(request.headers.authorization);
    } catch (err) {
      failed(request, err);
      return done();
    }
    if (!token) return done();
    opts.verify(token).then(
      (user) => ((request.user = user), done()),
      (err) => (failed(request, err), done()),
    );
  });
  // preValidation runs after the rate limiter's onRequest hook.
  app.addHook('preValidation', (request, _reply, done) => {
    if (request.authError) return done(request.authError);
    if (!request.user || !opts.onUser) return done();
    opts.onUser(request.user).then(() => done(), done);
  });
});

export function requireUser(request: FastifyRequest): AuthUser {
  if (!request.user) throw unauthorized('Authentication required');
  return request.user;
}
