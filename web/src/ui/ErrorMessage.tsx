import { describeError } from '../api/api.ts';

/** The visible error region: every failed API call ends up in one of these. */
export function ErrorMessage({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (error === null || error === undefined) return null;
  return (
    <div className="error" role="alert" data-testid="error-message">
      <span>{typeof error === 'string' ? error : describeError(error)}</span>
      {onRetry && (
        <button type="button" className="button small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
