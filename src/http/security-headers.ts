// The security headers of every response: Helmet's defaults with its Content-Security-
// Policy off (the API serves JSON; the web app and /docs set their own) and
// Cross-Origin-Resource-Policy relaxed to cross-origin (a browser app on another origin
// reads the API). They do not depend on the request, so they are fixed once here and
// added by one hook. @fastify/helmet built a new Helmet middleware chain per request
// behind two async hooks, and wrote each header through Node's setHeader: 30% of the
// JavaScript of a /liveness request (docs/profiles.md). security-headers.test.ts checks
// that this set is still exactly what @fastify/helmet sends with the same options.
import type { FastifyInstance } from 'fastify';

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'cross-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
});

/** The options @fastify/helmet was registered with, for the equivalence test. */
export const HELMET_OPTIONS = { contentSecurityPolicy: false, crossOriginResourcePolicy: { policy: 'cross-origin' } } as const;

/** Adds SECURITY_HEADERS to every response of `app` (callback-style: no promise per request). */
export function securityHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(SECURITY_HEADERS);
    done();
  });
}
