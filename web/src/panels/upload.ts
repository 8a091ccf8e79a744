// Multipart upload with progress. fetch() cannot report upload progress in browsers
// today, so this one request uses XMLHttpRequest; its path and answer keep the typed
// client's types, and errors become the same ApiError.
import { type ApiPath, type ResponseOf, toApiError } from '@auralink/client';
import { currentToken } from '../auth/token.ts';

const FILES_PATH = '/api/v1/files' satisfies ApiPath;
export type UploadedFile = ResponseOf<'/api/v1/files', 'post'>;

export async function uploadFile(callId: string, file: File, onProgress: (fraction: number) => void, signal?: AbortSignal) {
  const token = await currentToken();
  const form = new FormData();
  // Fields before the file: the server reads the call id before streaming the bytes.
  form.append('call_id', callId);
  form.append('file', file, file.name);
  return new Promise<UploadedFile>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', FILES_PATH);
    if (token) xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body: unknown = xhr.responseText;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // not JSON: kept as text for the error message
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(body as UploadedFile);
      const headers = new Headers();
      const rid = xhr.getResponseHeader('x-request-id');
      if (rid) headers.set('x-request-id', rid);
      reject(toApiError(new Response(null, { status: xhr.status, statusText: xhr.statusText, headers }), body));
    };
    xhr.onerror = () => reject(new TypeError('Upload failed: the service could not be reached'));
    xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(form);
  });
}
