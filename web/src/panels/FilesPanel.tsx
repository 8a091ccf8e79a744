import { useCallback, useEffect, useRef, useState } from 'react';
import { api, type FileInfo, unwrap } from '../api/api.ts';
import { useLiveEvents } from '../events/EventsProvider.tsx';
import { ErrorMessage } from '../ui/ErrorMessage.tsx';
import { uploadFile } from './upload.ts';

const SCAN_LABEL: Record<string, string> = {
  pending: 'Scanning…',
  clean: 'Clean',
  infected: 'Blocked: infected',
  failed: 'Scan failed',
  skipped: 'Not scanned',
};

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function FilesPanel({ callId, canUpload }: { callId: string; canUpload: boolean }) {
  const [files, setFiles] = useState<FileInfo[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [progress, setProgress] = useState<{ name: string; fraction: number } | null>(null);
  const input = useRef<HTMLInputElement>(null);

  const load = useCallback(() => {
    api
      .GET('/api/v1/files', { params: { query: { call_id: callId, limit: 100 } } })
      .then((r) => {
        setFiles(unwrap(r).files);
        setError(null);
      })
      .catch(setError);
  }, [callId]);
  useEffect(load, [load]);
  useLiveEvents((e) => {
    if (e.call_id === callId && e.type.startsWith('file.')) load();
  }, [callId, load]);
  // While a scan is pending, look again now and then in case an event was missed.
  const pending = files?.some((f) => f.scan_status === 'pending');
  useEffect(() => {
    if (!pending) return;
    const t = setInterval(load, 5000);
    return () => clearInterval(t);
  }, [pending, load]);

  const upload = async (file: File) => {
    setError(null);
    setProgress({ name: file.name, fraction: 0 });
    try {
      await uploadFile(callId, file, (fraction) => setProgress({ name: file.name, fraction }));
      load();
    } catch (err) {
      setError(err);
    } finally {
      setProgress(null);
      if (input.current) input.current.value = '';
    }
  };

  const download = async (f: FileInfo) => {
    setError(null);
    try {
      const { url } = unwrap(await api.GET('/api/v1/files/{file_id}/download', { params: { path: { file_id: f.file_id } } }));
      // Never navigate this page: leaving it (even for a download) ends the call, as
      // livekit-client disconnects on page leave. A new tab gets the attachment instead
      // (same-origin URLs download in place thanks to the download attribute).
      const a = document.createElement('a');
      a.href = url;
      a.target = '_blank';
      a.rel = 'noopener';
      a.download = f.file_name;
      document.body.append(a);
      a.click();
      a.remove();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section className="panel" aria-labelledby="files-heading" data-testid="files-panel">
      <h2 id="files-heading">Files</h2>
      {canUpload && (
        <label className="upload">
          <span className="button">Upload a file</span>
          <input
            ref={input}
            type="file"
            data-testid="file-upload-input"
            aria-label="Upload a file to this call"
            disabled={progress !== null}
            onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) void upload(f);
            }}
          />
        </label>
      )}
      {progress && (
        <div className="progress-row" data-testid="upload-progress">
          <span>{progress.name}</span>
          <progress max={1} value={progress.fraction} aria-label={`Uploading ${progress.name}`} />
          <span>{Math.round(progress.fraction * 100)}%</span>
        </div>
      )}
      <ErrorMessage error={error} onRetry={load} />
      {files?.length === 0 && <p className="muted">No files shared yet.</p>}
      <ul className="list compact" data-testid="file-list">
        {files?.map((f) => (
          <li key={f.file_id} className="file-row" data-testid="file-row" data-file-name={f.file_name} data-scan-status={f.scan_status}>
            <div className="grow">
              <div className="title" title={f.file_name}>
                {f.file_name}
              </div>
              <div className="meta">
                <span>{formatBytes(f.file_size)}</span>
                <span className={`badge scan-${f.scan_status}`} data-testid="file-scan-status">
                  {SCAN_LABEL[f.scan_status] ?? f.scan_status}
                </span>
              </div>
            </div>
            <button
              type="button"
              className="button small"
              data-testid="file-download"
              aria-label={`Download ${f.file_name}`}
              disabled={f.scan_status === 'pending' || f.scan_status === 'infected'}
              onClick={() => void download(f)}
            >
              Download
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
