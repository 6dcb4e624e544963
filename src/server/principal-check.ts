import type { Redis } from 'ioredis';
import { GraphQLError } from 'graphql';
import type { WebSocket } from 'ws';
import type { Logger } from '../observability/logger';
import { findAppError } from '../kernel/errors';
import type { AuthService, Viewer } from '../services/auth';
import type { PrincipalStamps } from '../services/principal-stamps';

/**
 * Close code of a socket whose credentials no longer hold: the token expired,
 * the API key was revoked, the account is gone. graphql-ws clients treat 4401
 * (Unauthorized) as final: sign in again, then reconnect. The close reason
 * says which ('Token expired', 'Credentials revoked').
 */
export const CLOSE_UNAUTHORIZED = 4401;

/** What the WebSocket server keeps per connection; `viewer` is refreshed in place. */
export interface SocketPrincipal {
  viewer: Viewer | null;
}

interface Tracked {
  principal: SocketPrincipal;
  userId: string;
  authorization: string;
  /** The user's stamp when the viewer was last read from the database. */
  stamp: string;
  checkedAt: number;
  /** Set once refused: the socket is closing and runs nothing more. */
  refused: boolean;
  close: (reason: string) => void;
}

/**
 * Keeps a socket's principal as true as an HTTP request's: before every
 * operation the user's stamp is read from Redis (one GET, no database read);
 * when it moved, or at least once a minute, the credentials are authenticated
 * again, so a role or tier change applies to that operation and a revoked key,
 * a removed account or an expired token closes the socket with 4401. A bump
 * announced on the stamps' channel re-checks the user's sockets at once, so
 * open subscriptions end too.
 */
export class PrincipalCheck {
  private readonly tracked = new WeakMap<SocketPrincipal, Tracked>();
  private readonly byUser = new Map<string, Set<Tracked>>();

  constructor(
    private readonly auth: AuthService,
    private readonly stamps: PrincipalStamps,
    private readonly logger: Logger,
    private readonly revalidateMs = 60_000,
  ) {}

  /** Re-checks the sockets of each user announced on the stamps' channel; `subscriber` is a connection of its own. */
  async listen(subscriber: Redis): Promise<void> {
    // Messages sent while the subscriber was away are lost: every cached user is read again after a (re)connect.
    subscriber.on('ready', () => this.auth.forgetAllUsers());
    subscriber.on('message', (channel: string, userId: string) => {
      if (channel !== this.stamps.channel) return;
      this.auth.forgetUser(userId); // before the re-checks below read the user
      for (const tracked of this.byUser.get(userId) ?? []) {
        this.recheck(tracked).catch((err) => this.logger.warn({ err, userId }, 'principal re-check failed'));
      }
    });
    await subscriber.subscribe(this.stamps.channel);
  }

  /** Starts watching a signed-in socket, just authenticated with `authorization`, until it closes. */
  async track(principal: SocketPrincipal, authorization: string, socket: Pick<WebSocket, 'close' | 'once'>): Promise<void> {
    const viewer = principal.viewer;
    if (!viewer) return;
    const tracked: Tracked = {
      principal, userId: viewer.user.id, authorization, stamp: '0', checkedAt: Date.now(), refused: false,
      close: (reason) => socket.close(CLOSE_UNAUTHORIZED, reason),
    };
    this.tracked.set(principal, tracked);
    let users = this.byUser.get(tracked.userId);
    if (!users) this.byUser.set(tracked.userId, (users = new Set()));
    users.add(tracked);
    socket.once('close', () => this.untrack(tracked));
    // A stamp that never moved proves the viewer just read is current; one that
    // did may have moved after that read, so read the viewer again behind it.
    tracked.stamp = await this.stamps.read(tracked.userId);
    if (tracked.stamp !== '0') await this.recheck(tracked, tracked.stamp);
  }

  /**
   * Before each operation on the socket: null when it may run (with the viewer
   * refreshed if needed), else the errors to answer with, the socket closing.
   */
  async admit(principal: SocketPrincipal): Promise<readonly GraphQLError[] | null> {
    const tracked = this.tracked.get(principal);
    if (!tracked) return null; // anonymous: nothing to revoke
    if (tracked.refused) return [unauthorizedError()];
    const expiresAt = tracked.principal.viewer?.expiresAt;
    if (expiresAt && expiresAt * 1000 <= Date.now()) return this.refuse(tracked, 'Token expired');
    const stamp = await this.stamps.read(tracked.userId);
    if (stamp === tracked.stamp && Date.now() - tracked.checkedAt < this.revalidateMs) return null;
    // A stamp moved without an announcement (a script's INCR) leaves this process's copies of the user and keys behind.
    if (stamp !== tracked.stamp) this.auth.forgetUser(tracked.userId);
    try {
      return (await this.recheck(tracked, stamp)) ? null : [unauthorizedError()];
    } catch (err) {
      // The credentials could not be read (database down): this operation fails, the socket stays.
      this.logger.warn({ err, userId: tracked.userId }, 'principal re-check failed');
      return [new GraphQLError('Could not check your credentials; try again', { extensions: { code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 5 } })];
    }
  }

  /** Reads the viewer again; false (and the socket closed) when the credentials no longer hold. */
  private async recheck(tracked: Tracked, stamp?: string): Promise<boolean> {
    const seen = stamp ?? (await this.stamps.read(tracked.userId));
    let viewer: Viewer | null;
    try {
      viewer = await this.auth.authenticate(tracked.authorization);
    } catch (error) {
      if (findAppError(error)?.code !== 'UNAUTHENTICATED') throw error; // a database outage is not a revocation
      viewer = null;
    }
    if (!viewer || viewer.user.id !== tracked.userId) {
      this.refuse(tracked, 'Credentials revoked');
      return false;
    }
    tracked.principal.viewer = viewer;
    tracked.stamp = seen;
    tracked.checkedAt = Date.now();
    return true;
  }

  private refuse(tracked: Tracked, reason: string): GraphQLError[] {
    tracked.refused = true;
    tracked.principal.viewer = null;
    this.byUser.get(tracked.userId)?.delete(tracked);
    tracked.close(reason);
    return [unauthorizedError()];
  }

  private untrack(tracked: Tracked): void {
    this.tracked.delete(tracked.principal);
    const users = this.byUser.get(tracked.userId);
    users?.delete(tracked);
    if (users?.size === 0) this.byUser.delete(tracked.userId);
  }
}

function unauthorizedError(): GraphQLError {
  return new GraphQLError('Your credentials are no longer valid: sign in again', { extensions: { code: 'UNAUTHENTICATED' } });
}
