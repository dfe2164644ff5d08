import { Fragment, type ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { describeError } from './api.js';

/** An error with its code, as every page shows one. */
export function ErrorBox({ error }: { error: unknown }) {
  const { code, message } = describeError(error);
  return (
    <div class="error" role="alert" data-test="error">
      <code>{code}</code> {message}
    </div>
  );
}

export type Loaded<T> = { state: 'loading' } | { state: 'ready'; value: T } | { state: 'failed'; error: unknown };

/**
 * Loads `load()` when `key` changes, and again every `refreshMs` (0: never) and on `reload()`. A
 * failed refresh keeps showing the last value beside the error.
 */
export function useLoad<T>(load: () => Promise<T>, key: string, refreshMs = 0): { data: Loaded<T>; reload: () => void; refreshError: unknown } {
  const [data, setData] = useState<Loaded<T>>({ state: 'loading' });
  const [refreshError, setRefreshError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => setData({ state: 'loading' }), [key]);
  useEffect(() => {
    let live = true;
    loadRef.current().then(
      (value) => {
        if (!live) return;
        setData({ state: 'ready', value });
        setRefreshError(null);
      },
      (error: unknown) => {
        if (!live) return;
        setData((d) => (d.state === 'ready' ? d : { state: 'failed', error }));
        setRefreshError(error);
      },
    );
    return () => {
      live = false;
    };
  }, [key, tick]);
  useEffect(() => {
    if (refreshMs <= 0) return;
    const timer = setInterval(() => setTick((t) => t + 1), refreshMs);
    return () => clearInterval(timer);
  }, [key, refreshMs]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, reload, refreshError };
}

/** Renders a loaded value, a spinner line or the error. */
export function Show<T>({ data, children }: { data: Loaded<T>; children: (value: T) => ComponentChildren }) {
  if (data.state === 'loading') return <p class="muted">Loading…</p>;
  if (data.state === 'failed') return <ErrorBox error={data.error} />;
  return <>{children(data.value)}</>;
}

/** The current time, ticking every second (for countdowns). */
export function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

/** `1h 02m`, `3m 05s`, `12s`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** Time left until `deadline`, or how long ago it passed. */
export function Countdown({ deadline }: { deadline: string }) {
  const now = useNow();
  const left = Date.parse(deadline) - now;
  return (
    <span class={left > 0 ? 'countdown' : 'countdown passed'} title={deadline} data-test="countdown">
      {left > 0 ? `${duration(left)} left` : `passed ${duration(-left)} ago`}
    </span>
  );
}

/** A timestamp in the reader's locale, the exact value on hover. */
export function Time({ at }: { at: string | null | undefined }) {
  if (!at) return <span class="muted">—</span>;
  return <time dateTime={at} title={at}>{new Date(at).toLocaleString()}</time>;
}

/** A long hex value, wrapped, selectable. */
export function Hex({ value }: { value: string | null | undefined }) {
  if (!value) return <span class="muted">—</span>;
  return <code class="hex">{value}</code>;
}

/** A short id (the first 8 characters), the whole id on hover. */
export function ShortId({ id }: { id: string }) {
  return <code title={id}>{id.slice(0, 8)}</code>;
}

/** A status word as a coloured badge. */
export function Badge({ value }: { value: string }) {
  return <span class={`badge badge-${value.replace(/[^a-z_]/g, '')}`}>{value.replace(/_/g, ' ')}</span>;
}

/** A labelled value list. */
export function Fields({ rows }: { rows: [string, ComponentChildren][] }) {
  return (
    <dl class="fields">
      {rows.map(([label, value]) => (
        <Fragment key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </Fragment>
      ))}
    </dl>
  );
}

/** Pretty JSON of an API value (as text: preact escapes it). */
export function Json({ value }: { value: unknown }) {
  return <pre class="json">{JSON.stringify(value, null, 2)}</pre>;
}
