import { useEffect, useState } from 'preact/hooks';

/** The route is the hash: `#/requests`, `#/requests/<id>`, `#/audit?action=...` (no server round trip). */
export interface Route {
  path: string[];
  query: URLSearchParams;
}

const parse = (hash: string): Route => {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  return { path: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query) };
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parse(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** `#/a/b?x=1` from parts (each part encoded). */
export const href = (parts: string[], query?: Record<string, string>): string => {
  const qs = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== '')).toString() : '';
  return `#/${parts.map(encodeURIComponent).join('/')}${qs ? `?${qs}` : ''}`;
};
