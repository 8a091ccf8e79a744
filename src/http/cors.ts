// CORS through @fastify/cors, with its preflight failures answered in the contract's
// shape: the plugin answers a preflight without Access-Control-Request-Method with a
// text/plain 400, and one from an origin not on the list with a 204 that merely lacks
// Access-Control-Allow-Origin. A guard in front of it answers both as JSON errors.
import cors from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { forbidden, validation } from '../errors.ts';

export async function registerCors(app: FastifyInstance, origins: string[] | '*'): Promise<void> {
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (request.method !== 'OPTIONS') return;
    const origin = request.headers.origin;
    // Every OPTIONS request is taken for a preflight (this API has no other use for it).
    if (!origin || !request.headers['access-control-request-method']) {
      throw validation('A CORS preflight needs the Origin and Access-Control-Request-Method headers');
    }
    if (origins !== '*' && !origins.includes(origin)) throw forbidden('This origin is not allowed');
  });
  await app.register(cors, {
    origin: origins === '*' ? true : origins,
    exposedHeaders: ['x-request-id', 'retry-after'],
  });
}
