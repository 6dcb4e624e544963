import { createContext, useContext, useEffect } from 'react';

/** Subscribes a listener to the live connection's returns after a drop; returns its unsubscribe (`AuthProvider` provides it). */
export const ReconnectContext = createContext<(listener: () => void) => () => void>(() => () => undefined);

/** Runs `listener` whenever the live connection comes back after a drop (to resume streams). */
export function useOnReconnect(listener: () => void): void {
  const subscribe = useContext(ReconnectContext);
  useEffect(() => subscribe(listener), [subscribe, listener]);
}
