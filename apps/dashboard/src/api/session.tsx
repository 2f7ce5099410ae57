import { useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';

import type { Role } from './client';
import { api, ApiError, onSessionExpiry, onSignedOut, tokenStore } from './client';

export interface SessionUser {
  name: string;
  role: Role;
}

/** `cookie`: signed in with name and password (HttpOnly cookie); `token`: with an API token kept in the tab. */
export type SessionMode = 'cookie' | 'token';

interface SessionBody {
  user: { id: string; name: string; role: Role };
  idleSeconds: number;
  expiresAt: string;
}

interface WhoAmI {
  kind: string;
  name: string;
  role?: Role;
}

export type SessionState =
  | { status: 'loading' }
  | { status: 'signed-out'; reason?: string }
  | { status: 'signed-in'; user: SessionUser; mode: SessionMode; expiresAt: string | null };

interface SessionApi {
  state: SessionState;
  signInWithPassword: (name: string, password: string) => Promise<void>;
  signInWithToken: (token: string) => Promise<void>;
  signOut: (reason?: string) => Promise<void>;
  extend: () => Promise<void>;
}

const SessionContext = createContext<SessionApi | null>(null);

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** A token's role: the one the gateway names, else admin for an admin token (before accounts had roles). */
function roleOf(who: WhoAmI): Role {
  return who.role ?? (who.kind === 'admin' ? 'admin' : 'viewer');
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: 'loading' });
  const queryClient = useQueryClient();

  useEffect(() => {
    let cancelled = false;
    const restore = async (): Promise<SessionState> => {
      if (tokenStore.get()) {
        try {
          const who = await api<WhoAmI>('GET', '/api/auth/whoami', undefined, { quiet401: true });
          return { status: 'signed-in', user: { name: who.name, role: roleOf(who) }, mode: 'token', expiresAt: null };
        } catch {
          tokenStore.clear();
        }
      }
      try {
        const s = await api<SessionBody>('GET', '/api/auth/session', undefined, { quiet401: true });
        return { status: 'signed-in', user: s.user, mode: 'cookie', expiresAt: s.expiresAt };
      } catch {
        return { status: 'signed-out' };
      }
    };
    void restore().then((s) => !cancelled && setState(s));
    return () => {
      cancelled = true;
    };
  }, []);

  useEffect(
    () =>
      onSessionExpiry((expiresAt) =>
        setState((s) => (s.status === 'signed-in' && s.mode === 'cookie' ? { ...s, expiresAt } : s)),
      ),
    [],
  );

  const signOut = useCallback(
    async (reason?: string) => {
      const wasCookie = state.status === 'signed-in' && state.mode === 'cookie';
      tokenStore.clear();
      if (wasCookie) {
        await api('POST', '/api/auth/logout', undefined, { quiet401: true }).catch(() => undefined);
      }
      queryClient.clear();
      setState({ status: 'signed-out', reason });
    },
    [queryClient, state],
  );

  useEffect(
    () =>
      onSignedOut(() => {
        tokenStore.clear();
        queryClient.clear();
        setState((s) => (s.status === 'signed-in' ? { status: 'signed-out', reason: 'Your session has ended.' } : s));
      }),
    [queryClient],
  );

  const value = useMemo<SessionApi>(
    () => ({
      state,
      async signInWithPassword(name, password) {
        tokenStore.clear();
        const s = await api<SessionBody>('POST', '/api/auth/login', { name, password }, { quiet401: true });
        setState({ status: 'signed-in', user: s.user, mode: 'cookie', expiresAt: s.expiresAt });
      },
      async signInWithToken(token) {
        tokenStore.set(token);
        try {
          const who = await api<WhoAmI>('GET', '/api/auth/whoami', undefined, { quiet401: true });
          setState({
            status: 'signed-in',
            user: { name: who.name, role: roleOf(who) },
            mode: 'token',
            expiresAt: null,
          });
        } catch (error) {
          tokenStore.clear();
          throw error;
        }
      },
      signOut,
      async extend() {
        const s = await api<SessionBody>('POST', '/api/auth/session/extend', {});
        setState((old) => (old.status === 'signed-in' ? { ...old, expiresAt: s.expiresAt } : old));
      },
    }),
    [state, signOut],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionApi {
  const s = useContext(SessionContext);
  if (!s) {
    throw new Error('useSession outside SessionProvider');
  }
  return s;
}

/** Whether the signed-in person holds at least `role` (buttons they may not use are not shown). */
export function useCan(role: Role): boolean {
  const { state } = useSession();
  return state.status === 'signed-in' && RANK[state.user.role] >= RANK[role];
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
