// The deployment's settings (GET /api/v1/client-config), loaded once before anything else.
import { createContext, type ReactNode, useCallback, useContext, useEffect, useState } from 'react';
import { api, type ClientConfig, unwrap } from '../api/api.ts';
import { ErrorMessage } from '../ui/ErrorMessage.tsx';

const Ctx = createContext<ClientConfig | null>(null);

export function useClientConfig(): ClientConfig {
  const c = useContext(Ctx);
  if (!c) throw new Error('useClientConfig outside ConfigProvider');
  return c;
}

export function ConfigProvider({ children }: { children: ReactNode }) {
  const [config, setConfig] = useState<ClientConfig | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(() => {
    setError(null);
    api
      .GET('/api/v1/client-config')
      .then((r) => setConfig(unwrap(r)))
      .catch(setError);
  }, []);
  useEffect(load, [load]);
  if (error) {
    return (
      <main className="page narrow">
        <h1>AuraLink</h1>
        <ErrorMessage error={error} onRetry={load} />
      </main>
    );
  }
  if (!config) return <p className="loading" aria-live="polite">Loading…</p>;
  return <Ctx.Provider value={config}>{children}</Ctx.Provider>;
}
