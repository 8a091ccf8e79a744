// A list read page by page along the API's keyset cursor. A new `load` (the filters
// changed) starts again from the first page; a page that arrives after that is dropped,
// so a slow answer to old filters never lands in the new list.
import { useCallback, useEffect, useRef, useState } from 'react';

export interface CursorPage<T> {
  items: T[];
  next_cursor: string | null;
}

export function useCursorPages<T>(load: (cursor: string | null) => Promise<CursorPage<T>>) {
  const [items, setItems] = useState<T[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const generation = useRef(0);

  const fetchPage = useCallback(
    async (after: string | null) => {
      const gen = generation.current;
      setLoading(true);
      setError(null);
      try {
        const r = await load(after);
        if (gen !== generation.current) return; // the filters changed meanwhile
        setItems((list) => (after ? [...(list ?? []), ...r.items] : r.items));
        setCursor(r.next_cursor);
      } catch (err) {
        if (gen === generation.current) setError(err);
      } finally {
        if (gen === generation.current) setLoading(false);
      }
    },
    [load],
  );

  useEffect(() => {
    generation.current++;
    setItems(null);
    setCursor(null);
    void fetchPage(null);
  }, [fetchPage]);

  return { items, cursor, loading, error, fetchPage };
}
