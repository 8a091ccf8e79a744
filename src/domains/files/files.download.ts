// The download route of the disk backend: GET /api/v1/files/{id}/content?expires&sig.
// The HMAC signature is the credential (no bearer token), so the route skips auth.
// Every response is an attachment with nosniff and a sandboxing CSP, so uploaded
// markup can never run in this service's origin.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { docOnly } from '../../http/openapi.ts';
import { publicErrorResponses } from '../../http/schemas.ts';
import { contentDisposition, servedContentType } from './content-disposition.ts';
import type { SignedDownloads } from './files.service.ts';

const BINARY = { type: 'string', format: 'binary' };

export type RangeResult = { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

/** One byte range (RFC 9110); several ranges or a malformed header are served whole. */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (!header) return { kind: 'full' };
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'full' };
  if (size === 0) return { kind: 'unsatisfiable' };
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end };
}

function safetyHeaders(reply: FastifyReply, fileName: string, type: string): void {
  reply
    .header('content-type', type)
    .header('content-disposition', contentDisposition(fileName))
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; sandbox")
    .header('cache-control', 'private, no-cache')
    .header('accept-ranges', 'bytes');
}

export const fileDownloadRoutes: FastifyPluginAsync<{ downloads: SignedDownloads }> = async (app, { downloads }) => {
  app.get<{ Params: { file_id: string }; Querystring: { expires?: string; sig?: string } }>(
    '/files/:file_id/content',
    {
      config: {
        skipAuth: true,
        ...docOnly({
          responses: {
            200: { description: 'The file, as an attachment', content: { 'application/octet-stream': { schema: BINARY } } },
            206: { description: 'The requested byte range', content: { 'application/octet-stream': { schema: BINARY } } },
            304: { description: 'Not modified (If-None-Match matched the ETag)' },
          },
        }),
      },
      schema: {
        tags: ['files'],
        summary: 'Download a file through a signed URL (disk storage)',
        description:
          'The URL that GET /api/v1/files/{file_id}/download hands out; expires and sig are its credential. ' +
          'Supports Range (one range), If-Range and If-None-Match.',
        params: Type.Object({ file_id: Type.String({ maxLength: 64 }) }),
        querystring: Type.Object({
          expires: Type.Optional(Type.String({ maxLength: 16 })),
          sig: Type.Optional(Type.String({ maxLength: 128 })),
        }),
        response: publicErrorResponses(403, 404, 409, 416, 503),
      },
    },
    async (request, reply) => {
      const row = await downloads.resolve(request.params.file_id.toLowerCase(), request.query.expires, request.query.sig);
      const etag = row.sha256 ? `"${row.sha256}"` : null;
      safetyHeaders(reply, row.file_name, servedContentType(row.file_type, row.detected_type));
      if (etag) reply.header('etag', etag);
      const inm = request.headers['if-none-match'];
      if (etag && inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
        return reply.code(304).send();
      }
      const ifRange = request.headers['if-range'];
      const range =
        ifRange && ifRange !== etag ? ({ kind: 'full' } as const) : parseRange(request.headers.range, row.file_size);
      if (range.kind === 'unsatisfiable') {
        return reply
          .code(416)
          .header('content-range', `bytes */${row.file_size}`)
          .type('application/json; charset=utf-8')
          .send({ error: { code: 'RANGE_NOT_SATISFIABLE', message: 'The requested range is not satisfiable' } });
      }
      if (range.kind === 'partial') {
        const obj = await downloads.open(row, range);
        return reply
          .code(206)
          .header('content-range', `bytes ${range.start}-${range.end}/${row.file_size}`)
          .header('content-length', String(range.end - range.start + 1))
          .send(obj.body);
      }
      const obj = await downloads.open(row);
      return reply.header('content-length', String(obj.size)).send(obj.body);
    },
  );
};
