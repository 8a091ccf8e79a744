// Which methods the route table has for a concrete path, so that a request with the
// wrong method is told 405 with an Allow header rather than 404 (RFC 9110 §15.5.6).
// The table is public (it is the OpenAPI document), so this leaks nothing.

export interface RouteEntry {
  method: string;
  url: string;
}

interface Compiled {
  method: string;
  pattern: RegExp;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A Fastify route URL as a regular expression: `:param` is one segment, a trailing `*` anything. */
function compile(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : escape(segment)))
    .join('/');
  return new RegExp(`^${source}$`);
}

// The table is complete once the app is ready; compiled again only if it grew.
const cache = new WeakMap<readonly RouteEntry[], { size: number; compiled: Compiled[] }>();

function compiledRoutes(routes: readonly RouteEntry[]): Compiled[] {
  const hit = cache.get(routes);
  if (hit && hit.size === routes.length) return hit.compiled;
  // The CORS plugin's catch-all OPTIONS route matches every path: it says nothing.
  const compiled = routes.filter((r) => r.url !== '*' && r.url !== '/*').map((r) => ({ method: r.method, pattern: compile(r.url) }));
  cache.set(routes, { size: routes.length, compiled });
  return compiled;
}

/** The methods some route answers on `path`, sorted; empty when no route has this path. */
export function allowedMethods(routes: readonly RouteEntry[], path: string): string[] {
  const methods = new Set<string>();
  for (const r of compiledRoutes(routes)) if (r.pattern.test(path)) methods.add(r.method);
  return [...methods].sort();
}
