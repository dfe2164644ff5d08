import type { ConsoleSessionResponse } from '#api';
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

/** Who is signed in; pages read the role to hide what it may not do. */
export const SessionContext = createContext<ConsoleSessionResponse | null>(null);

export function useSession(): ConsoleSessionResponse {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession() outside a signed-in page');
  return session;
}

/** Whether the session may change things at all (an auditor reads only). */
export const canWrite = (session: ConsoleSessionResponse): boolean => session.role !== 'auditor';
