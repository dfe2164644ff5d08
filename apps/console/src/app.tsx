import type { ConsoleSessionResponse } from '#api';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, client, setCsrfToken, setUnauthorizedHandler } from './api.js';
import { AuditPage } from './pages/audit.js';
import { GrantsPage } from './pages/grants.js';
import { KeysPage } from './pages/keys.js';
import { NodesPage } from './pages/nodes.js';
import { PrincipalsPage } from './pages/principals.js';
import { RequestPage } from './pages/request.js';
import { RequestsPage } from './pages/requests.js';
import { SignInPage } from './pages/sign-in.js';
import { href, useRoute } from './router.js';
import { SessionContext } from './session.js';
import { ErrorBox } from './ui.js';

type SessionState = { state: 'checking' } | { state: 'signed-out'; error?: unknown } | { state: 'signed-in'; session: ConsoleSessionResponse };

/** The pages, and the roles whose API calls they need (the API refuses the others anyway). */
const SECTIONS: { path: string; label: string; roles: readonly ConsoleSessionResponse['role'][] }[] = [
  { path: 'requests', label: 'Requests', roles: ['admin', 'proposer', 'auditor'] },
  { path: 'nodes', label: 'Nodes', roles: ['admin', 'auditor'] },
  { path: 'keys', label: 'Keys', roles: ['admin', 'proposer', 'auditor'] },
  { path: 'grants', label: 'Grants', roles: ['admin', 'proposer', 'auditor'] },
  { path: 'principals', label: 'Principals', roles: ['admin'] },
  { path: 'audit', label: 'Audit log', roles: ['admin', 'auditor'] },
];

export function App() {
  const [session, setSession] = useState<SessionState>({ state: 'checking' });
  const route = useRoute();

  const signedIn = (s: ConsoleSessionResponse) => {
    setCsrfToken(s.csrfToken);
    setSession({ state: 'signed-in', session: s });
  };

  // A reload keeps the cookie, not the CSRF token: ask the session for it again.
  useEffect(() => {
    client.call('getConsoleSession').then(signedIn, (error: unknown) => {
      setSession(error instanceof ApiError && error.status === 401 ? { state: 'signed-out' } : { state: 'signed-out', error });
    });
  }, []);

  // Any call answered 401 (the session expired, or its principal was revoked) leads back to sign-in.
  useEffect(() => {
    setUnauthorizedHandler(() => {
      setCsrfToken(undefined);
      setSession({ state: 'signed-out', error: new ApiError(401, 'UNAUTHORIZED', 'the session has ended: sign in again') });
    });
    return () => setUnauthorizedHandler(undefined);
  }, []);

  const signOut = async () => {
    try {
      await client.call('endConsoleSession');
    } finally {
      setCsrfToken(undefined);
      setSession({ state: 'signed-out' });
    }
  };

  if (session.state === 'checking') return <p class="muted page">Checking the session…</p>;
  if (session.state === 'signed-out') {
    return (
      <>
        {session.error ? <div class="page"><ErrorBox error={session.error} /></div> : null}
        <SignInPage onSignedIn={signedIn} />
      </>
    );
  }

  const s = session.session;
  const section = route.path[0] ?? 'requests';
  const page = (() => {
    switch (section) {
      case 'requests':
        return route.path[1] ? <RequestPage id={route.path[1]} /> : <RequestsPage query={route.query} />;
      case 'nodes':
        return <NodesPage />;
      case 'keys':
        return <KeysPage />;
      case 'grants':
        return <GrantsPage />;
      case 'principals':
        return <PrincipalsPage />;
      case 'audit':
        return <AuditPage query={route.query} />;
      default:
        return <p>No such page: {section}</p>;
    }
  })();

  return (
    <SessionContext.Provider value={s}>
      <header class="top">
        <a class="brand" href={href(['requests'])}>
          Roundtable
        </a>
        <nav>
          {SECTIONS.filter((x) => x.roles.includes(s.role)).map((x) => (
            <a key={x.path} href={href([x.path])} class={section === x.path ? 'active' : ''} data-test={`nav-${x.path}`}>
              {x.label}
            </a>
          ))}
        </nav>
        <div class="whoami" data-test="whoami">
          <span>{s.actor.name ?? (s.actor.kind === 'admin' ? 'admin token' : s.actor.id)}</span> <span class={`badge badge-role`}>{s.role}</span>{' '}
          <button type="button" class="link" onClick={() => void signOut()} data-test="sign-out">
            Sign out
          </button>
        </div>
      </header>
      <main class="page">{page}</main>
    </SessionContext.Provider>
  );
}
