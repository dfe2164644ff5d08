import type { ConsoleSessionResponse } from '#api';
import { useState } from 'preact/hooks';
import { client } from '../api.js';
import { ErrorBox } from '../ui.js';

/**
 * Sign-in with the admin token or a principal's API key. The key goes once to the coordinator, which
 * answers with an httpOnly cookie; the page keeps nothing of it (the field is cleared).
 */
export function SignInPage({ onSignedIn }: { onSignedIn: (s: ConsoleSessionResponse) => void }) {
  const [apiKey, setApiKey] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await client.call('createConsoleSession', { body: { apiKey } });
      setApiKey('');
      onSignedIn(session);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in">
      <h1>Roundtable console</h1>
      <p class="muted">Sign in with the admin token or a principal's API key (<code>rt_…</code>). An auditor's key signs in read-only.</p>
      <form onSubmit={(e) => void submit(e)} data-test="sign-in-form">
        <label>
          API key
          <input type="password" name="apiKey" autoComplete="off" required value={apiKey} onInput={(e) => setApiKey(e.currentTarget.value)} data-test="api-key" />
        </label>
        <button type="submit" disabled={busy || apiKey === ''} data-test="sign-in">
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {error ? <ErrorBox error={error} /> : null}
    </main>
  );
}
