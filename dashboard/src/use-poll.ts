import { useEffect, useRef, useState } from "preact/hooks";

export interface Polled<T> {
  data: T | undefined;
  /** The last failure; cleared by the next success. The last good data stays on screen meanwhile. */
  error: unknown;
  /** Fetch again now (after an action). */
  refresh(): void;
}

/** Calls `load` now and every `intervalMs` while mounted; a new `key` starts over. */
export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, key: string, intervalMs = 2000): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const kick = useRef<() => void>(() => {});
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    setData(undefined);
    setError(undefined);
    const stop = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight = false;
    const run = async () => {
      if (inFlight) return;
      inFlight = true;
      clearTimeout(timer);
      try {
        const value = await loadRef.current(stop.signal);
        if (stop.signal.aborted) return;
        setData(value);
        setError(undefined);
      } catch (err) {
        if (!stop.signal.aborted) setError(err);
      } finally {
        inFlight = false;
        if (!stop.signal.aborted) timer = setTimeout(run, intervalMs);
      }
    };
    kick.current = () => void run();
    void run();
    return () => {
      stop.abort();
      clearTimeout(timer);
    };
  }, [key, intervalMs]);

  return { data, error, refresh: () => kick.current() };
}
