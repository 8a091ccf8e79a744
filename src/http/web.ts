// Serves the web app (web/dist, built by `npm run build:web`) at / on the API's own
// origin, so the browser needs no CORS and the token never leaves the page's origin.
// Client-side routes get index.html (the SPA fallback); unknown API paths and
// missing files still get the contract's JSON 404.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.ts';

// The same relative path from src/http/web.ts (tsx) and dist/http/web.js (built).
export const WEB_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

declare module 'fastify' {
  interface FastifyReply {
    /** Answers with the web app's index.html (or the "not built" page), with its CSP. */
    sendWebApp(): Promise<FastifyReply>;
  }
}

export interface WebAppOptions {
  config: Config;
  /** LiveKit URL for clients (ws: or wss:), null when not configured. */
  livekitUrl: string | null;
  /** Where the built app lives; tests point it elsewhere. */
  dir?: string;
}

/** Paths that belong to the API or the service, never to the app's client-side router. */
const SERVICE_PATH = /^\/(api|docs|openapi\.json|health|liveness|readiness|metrics)(\/|$)/;

/**
 * The CSP of the app's HTML: scripts and styles from this origin only, media from
 * the camera (blob:/mediastream:), and connections to this origin, LiveKit (its
 * signalling socket and the HTTP endpoint livekit-client probes on failure) and
 * Supabase Auth when configured. Inline styles are allowed: the call UI positions
 * tiles with style attributes.
 */
export function contentSecurityPolicy(livekitUrl: string | null, supabaseUrl: string | null): string {
  const connect = ["'self'"];
  if (livekitUrl) {
    const ws = livekitUrl.replace(/^http(s?):/, 'ws$1:');
    connect.push(ws, ws.replace(/^ws(s?):/, 'http$1:'));
  }
  if (supabaseUrl) connect.push(supabaseUrl, supabaseUrl.replace(/^http(s?):/, 'ws$1:'));
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob: mediastream:",
    "font-src 'self' data:",
    `connect-src ${connect.join(' ')}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AuraLink</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
<h1>AuraLink</h1>
<p>The API is running, but the web app has not been built yet.</p>
<p>Run <code>npm run build:web</code>, then reload this page. The API is at
<a href="/docs">/docs</a>.</p>
</body></html>
`;

async function isFile(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isFile();
  } catch {
    return false;
  }
}

export const webApp = fp<WebAppOptions>(
  async (app, opts) => {
    const dir = opts.dir ?? WEB_DIST;
    const csp = contentSecurityPolicy(opts.livekitUrl, opts.config.supabase.url);
    const indexFile = path.join(dir, 'index.html');
    if (!(await isFile(indexFile))) app.log.warn(`web app not built (${indexFile} missing): run npm run build:web`);

    app.decorateReply('sendWebApp', async function sendWebApp(this: FastifyReply) {
      // Read per request: a rebuild is picked up without a restart, and index.html is small.
      const html = await fs.readFile(indexFile, 'utf8').catch(() => null);
      return this.code(200)
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('content-security-policy', csp)
        .send(html ?? NOT_BUILT);
    });

    await app.register(async (scope) => {
      await scope.register(fastifyStatic, { root: dir, serve: false, suppressWarning: true });
      const routeOpts = { schema: { hide: true }, config: { skipAuth: true } } as const;

      scope.get('/', routeOpts, (_request, reply) => reply.sendWebApp());
      scope.get('/*', routeOpts, async (request: FastifyRequest, reply: FastifyReply) => {
        const urlPath = decodeSafely(request.url.split('?')[0]!);
        if (urlPath === null || SERVICE_PATH.test(urlPath)) return reply.callNotFound();
        const last = urlPath.slice(urlPath.lastIndexOf('/') + 1);
        if (last.includes('.')) {
          const file = path.resolve(dir, `.${urlPath}`);
          if (!file.startsWith(dir + path.sep) || !(await isFile(file))) return reply.callNotFound();
          // Vite puts content-hashed names under assets/: they never change, so cache forever.
          const hashed = urlPath.startsWith('/assets/');
          return reply.sendFile(path.relative(dir, file), dir, {
            immutable: hashed,
            maxAge: hashed ? 365 * 86_400_000 : 3_600_000,
          });
        }
        if (!acceptsHtml(request)) return reply.callNotFound();
        return reply.sendWebApp();
      });
    });
  },
  { name: 'web-app' },
);

function decodeSafely(p: string): string | null {
  try {
    const d = decodeURIComponent(p);
    return d.includes('\0') ? null : d;
  } catch {
    return null;
  }
}

/** A browser navigation: Accept names text/html. API clients (JSON, curl's *\/*) do not get the app. */
export function acceptsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  return typeof accept === 'string' && /\btext\/html\b/i.test(accept);
}
