// Files endpoints (API.md "Files"). Multipart is registered here only, so no other
// route accepts it; the body is consumed as a stream part by part.
import multipart from '@fastify/multipart';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError, payloadTooLarge, validation } from '../../errors.ts';
import { requireUser } from '../../http/authenticate.ts';
import { docOnly } from '../../http/openapi.ts';
import { bearer, errorResponses, Nullable, PageQuery, Timestamp, Uuid } from '../../http/schemas.ts';
import type { FilesService, UploadPart } from './files.service.ts';
import { callRef } from './files.service.ts';

const ScanStatus = Type.Union(['pending', 'clean', 'infected', 'failed', 'skipped'].map((s) => Type.Literal(s)));
const AccessLevel = Type.Union(['public', 'call_participants', 'private'].map((s) => Type.Literal(s)));

const File = Type.Object({
  file_id: Uuid,
  call_id: Uuid,
  room_name: Type.String(),
  uploader_id: Nullable(Uuid),
  file_name: Type.String({ description: 'Cleaned display name (no paths, no control characters)' }),
  file_type: Type.String({ description: 'The type the uploader declared' }),
  detected_type: Nullable(Type.String({ description: 'The type sniffed from the first bytes, when recognised' })),
  file_size: Type.Integer(),
  sha256: Nullable(Type.String()),
  access_level: AccessLevel,
  scan_status: ScanStatus,
  virus_scanned: Type.Boolean(),
  expires_at: Nullable(Timestamp),
  created_at: Timestamp,
});

const FileParams = Type.Object({ file_id: Uuid });

// The upload form, for the OpenAPI document only: the route reads the multipart body
// as a stream (docOnly keeps Fastify from validating it). Send the fields before the
// file, so they are checked before any byte is stored.
const UploadForm = Type.Object({
  call_id: Type.Optional(Type.String({ format: 'uuid', description: 'The call; give call_id or room_name' })),
  room_name: Type.Optional(Type.String({ maxLength: 128, description: 'The LiveKit room name, instead of call_id' })),
  access_level: Type.Optional(AccessLevel),
  expires_in_seconds: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 365 * 86_400, description: 'Delete the file this many seconds after upload' }),
  ),
  file: Type.String({ format: 'binary', description: 'The file; one per request, up to the upload limit' }),
});

// Room for the form fields, part headers and boundaries around the file's bytes.
const MULTIPART_OVERHEAD = 64 * 1024;

// Browsers (and undici's FormData) escape these three in multipart file names, as the
// HTML standard prescribes; turn them back so the cleaner sees what the user chose.
const formDataName = (name: string) => name.replace(/%22/g, '"').replace(/%0D/gi, '\r').replace(/%0A/gi, '\n');

/**
 * The parser's own errors (busboy: "Boundary not found", "Unexpected end of multipart
 * data", "Malformed part header"...) are plain Errors thrown by the parts iterator:
 * the body is malformed, so they are the client's 400. The limit errors keep their
 * FST_ codes (the error handler maps them to 413); a client that went away is
 * recognised by the error handler from the request itself.
 */
function multipartError(err: unknown): unknown {
  if (err instanceof AppError) return err;
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && code.startsWith('FST_')) return err;
  const reason = err instanceof Error ? err.message.replace(/^Multipart: /, '') : 'unreadable';
  return validation(`Malformed multipart body: ${reason.slice(0, 100)}`);
}

async function* uploadParts(request: FastifyRequest): AsyncIterable<UploadPart> {
  try {
    for await (const p of request.parts()) {
      if (p.type === 'file') {
        yield { kind: 'file', field: p.fieldname, fileName: formDataName(p.filename), mimeType: p.mimetype, stream: p.file };
      } else {
        if (p.valueTruncated || p.fieldnameTruncated) throw validation(`Field ${p.fieldname} is too long`);
        yield { kind: 'field', name: p.fieldname, value: String(p.value) };
      }
    }
  } catch (err) {
    throw multipartError(err);
  }
}

export const filesRoutes: FastifyPluginAsync<{ files: FilesService }> = async (app, { files }) => {
  await app.register(multipart, {
    limits: {
      // One byte over the limit lets the service's own counter see the excess and answer 413.
      fileSize: files.maxBytes + 1,
      files: 1,
      fields: 8,
      fieldSize: 1024,
      parts: 10,
      headerPairs: 50,
    },
  });

  // A request refused before its body was read (401, 403, 413...) still has bytes on
  // the wire: detach the parser and discard them, so the client can read the answer.
  app.addHook('onSend', async (request) => {
    const raw = request.raw;
    if (!raw.complete && !raw.destroyed) {
      raw.unpipe();
      raw.resume();
    }
  });

  app.post(
    '/files',
    {
      schema: {
        tags: ['files'],
        security: bearer,
        summary: 'Upload a file to a call (multipart/form-data)',
        description:
          'Fields: file (required), call_id or room_name (one), access_level (default call_participants), ' +
          'expires_in_seconds. Only participants of the call may upload; file_sharing_enabled=false is 403; ' +
          'over the size limit is 413 and nothing is stored. The file is then scanned: see scan_status.',
        response: { 201: File, ...errorResponses(403, 404, 413, 415, 503) },
      },
      config: docOnly({ body: { 'multipart/form-data': { schema: UploadForm } } }),
    },
    async (request, reply) => {
      const user = requireUser(request);
      if (!request.isMultipart()) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send multipart/form-data');
      // A declared length that cannot fit is refused before reading; a smaller claim is
      // not trusted either: the bytes themselves are counted while streaming.
      const declared = Number(request.headers['content-length'] ?? 0);
      if (declared > files.maxBytes + MULTIPART_OVERHEAD) throw payloadTooLarge(files.maxBytes);
      const file = await files.upload(user.id, uploadParts(request));
      return reply.code(201).send(file);
    },
  );

  app.get<{ Querystring: { call_id?: string; room_name?: string; limit?: number; cursor?: string } }>(
    '/files',
    {
      schema: {
        tags: ['files'],
        summary: 'List the files of a call',
        description: 'Give call_id or room_name (exactly one).',
        security: bearer,
        querystring: Type.Object({
          call_id: Type.Optional(Uuid),
          room_name: Type.Optional(Type.String({ maxLength: 128 })),
          ...PageQuery,
        }),
        response: { 200: Type.Object({ files: Type.Array(File), next_cursor: Nullable(Type.String()) }), ...errorResponses(404) },
      },
    },
    async (request) => {
      const q = request.query;
      return files.list(requireUser(request).id, callRef(q.call_id, q.room_name), q.limit ?? 20, q.cursor);
    },
  );

  app.get<{ Params: { file_id: string } }>(
    '/files/:file_id',
    {
      schema: {
        tags: ['files'],
        summary: 'Get a file\'s details and scan state',
        security: bearer,
        params: FileParams,
        response: { 200: File, ...errorResponses(404) },
      },
    },
    async (request) => files.get(requireUser(request).id, request.params.file_id),
  );

  app.delete<{ Params: { file_id: string } }>(
    '/files/:file_id',
    {
      schema: {
        tags: ['files'],
        summary: 'Delete a file (uploader or call creator)',
        security: bearer,
        params: FileParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(403, 404) },
      },
    },
    async (request, reply) => {
      await files.delete(requireUser(request).id, request.params.file_id);
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { file_id: string }; Querystring: { redirect?: string } }>(
    '/files/:file_id/download',
    {
      schema: {
        tags: ['files'],
        security: bearer,
        summary: 'A short-lived signed URL for the file; ?redirect=1 answers 302 to it',
        description:
          'A file whose scan is not clean is not handed out: 409 FILE_NOT_READY while pending, 403 FILE_INFECTED ' +
          '(unless scanning is off).',
        params: FileParams,
        querystring: Type.Object({ redirect: Type.Optional(Type.Union([Type.Literal('0'), Type.Literal('1'), Type.Literal('true'), Type.Literal('false')])) }),
        response: {
          200: Type.Object({ url: Type.String(), expires_at: Timestamp }),
          302: Type.Null({ description: 'Redirect to the signed URL (Location header)' }),
          ...errorResponses(403, 404, 409, 503),
        },
      },
    },
    async (request, reply) => {
      const out = await files.downloadUrl(requireUser(request).id, request.params.file_id);
      reply.header('cache-control', 'no-store');
      if (request.query.redirect === '1' || request.query.redirect === 'true') return reply.redirect(out.url, 302);
      return out;
    },
  );
};
