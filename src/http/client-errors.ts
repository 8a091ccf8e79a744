// Requests that Node refuses before Fastify sees them (malformed request line, headers
// too large, bad framing, unknown method, CONNECT) still get the contract's error shape
// and an x-request-id. Node hands us only the socket here, so the answer is written as
// raw HTTP/1.1 and the connection is closed: after a parse error the stream is not
// trustworthy enough to read another request from.
import crypto from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import { ERROR_STATUS, type ErrorCode, validation } from '../errors.ts';

interface ParseError extends Error {
  code?: string;
}

// llhttp's error codes, grouped by what the client got wrong.
const FRAMING = new Set([
  'HPE_UNEXPECTED_CONTENT_LENGTH',
  'HPE_INVALID_CONTENT_LENGTH',
  'HPE_INVALID_TRANSFER_ENCODING',
  'HPE_INVALID_CHUNK_SIZE',
  'HPE_CHUNK_EXTENSIONS_OVERFLOW',
]);

function classify(err: ParseError): { code: ErrorCode; message: string } {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { code: 'REQUEST_TIMEOUT', message: 'The request did not arrive in time' };
    case 'HPE_HEADER_OVERFLOW':
      // The URL counts towards the same limit as the headers (Node's maxHeaderSize).
      return { code: 'HEADERS_TOO_LARGE', message: 'The request line and headers are too large' };
    case 'HPE_INVALID_METHOD':
      return { code: 'VALIDATION_ERROR', message: 'Unknown HTTP method' };
    default:
      if (err.code && FRAMING.has(err.code)) {
        return { code: 'VALIDATION_ERROR', message: 'Invalid message framing (Content-Length / Transfer-Encoding)' };
      }
      return { code: 'VALIDATION_ERROR', message: 'Malformed HTTP request' };
  }
}

export function rawErrorResponse(code: ErrorCode, message: string, requestId: string): string {
  const status = ERROR_STATUS[code];
  const body = JSON.stringify({ error: { code, message } });
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `x-request-id: ${requestId}`,
    'X-Content-Type-Options: nosniff',
    'Cache-Control: no-store',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

// Bytes the client may still be sending when we answer are drained for this long
// before the socket is destroyed: destroying it with unread input makes the kernel
// send a reset, which can discard our answer before the client reads it.
const LINGER_MS = 2000;

function answerAndClose(socket: Duplex, payload: string): void {
  socket.end(payload);
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/** Fastify's `clientErrorHandler`: Node's 'clientError' event, answered in the contract's shape. */
export function clientErrorHandler(logger: FastifyBaseLogger) {
  return (err: ParseError, socket: Duplex): void => {
    // A reset connection has no one to answer; an ended one has had its answer
    // (the parser keeps reporting the same error while leftover bytes drain).
    if (err.code === 'ECONNRESET' || socket.destroyed || socket.writableEnded) return;
    // The client closed its side mid-request: an abort, not a malformed request. A
    // request already under way is logged as aborted by the error handler.
    if (err.code === 'HPE_INVALID_EOF_STATE') {
      logger.debug({ parseError: err.code }, 'client closed the connection mid-request');
      socket.destroy();
      return;
    }
    const requestId = crypto.randomUUID();
    const { code, message } = classify(err);
    logger.info({ reqId: requestId, code, parseError: err.code }, `client error: ${message}`);
    // A response to an earlier request on this connection is being written: bytes of
    // ours now would land inside it. Node's own handler makes the same check.
    const inFlight = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
    if (!socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    answerAndClose(socket, rawErrorResponse(code, message, requestId));
  };
}

/**
 * CONNECT requests are handed to the server's 'connect' event, not to Fastify; with
 * no listener Node just drops the connection. This is not a proxy: answer 405.
 */
export function connectHandler(logger: FastifyBaseLogger) {
  return (_req: IncomingMessage, socket: Duplex): void => {
    const requestId = crypto.randomUUID();
    logger.info({ reqId: requestId, code: 'METHOD_NOT_ALLOWED' }, 'client error: CONNECT is not supported');
    answerAndClose(socket, rawErrorResponse('METHOD_NOT_ALLOWED', 'CONNECT is not supported', requestId));
  };
}

/**
 * Node answers an HTTP/1.1 request without Host itself, with an empty 400, unless
 * `requireHostHeader` is off; app.ts turns it off so that this hook answers instead,
 * in the contract's shape and with the request's id.
 */
export async function requireHost(request: FastifyRequest): Promise<void> {
  if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
    throw validation('An HTTP/1.1 request needs a Host header');
  }
}
