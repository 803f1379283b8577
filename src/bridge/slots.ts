import type { SmtpReply } from './replies.js';

/** What the slots need of one smtp-server connection. */
export interface GuardedConnection {
  /** Sends a reply; smtp-server closes the connection after a 421. */
  send(code: number, data: string, context: false): void;
  /**
   * smtp-server's entry point for every line the client sends in command mode (SASL lines of
   * AUTH included). Wrapped to count commands before login; declared in smtp-server's types.
   */
  _onCommand(command: Buffer, callback?: () => void): void;
}

export interface SlotLimits {
  maxConnectionsPerAddress: number;
  loginTimeoutSeconds: number;
  maxCommandsBeforeLogin: number;
}

/** Why the slots closed a connection. */
export type SlotRefusal = 'login-timeout' | 'too-many-commands';

interface Open {
  client: string;
  timer?: NodeJS.Timeout;
  /** Set while the connection is held to the pre-login limits. */
  watching: boolean;
}

/**
 * Keeps connection slots for devices: no address holds more than its share, and a connection
 * that has not logged in (and may not send without a login) is closed after a deadline and
 * after a number of commands, whatever it sends. A stranger who can reach the port can then
 * neither hold every slot with idle connections nor keep one open with NOOPs.
 */
export class ConnectionSlots {
  readonly #limits: SlotLimits;
  readonly #perAddress = new Map<string, number>();
  readonly #open = new Map<string, Open>();

  constructor(limits: SlotLimits) {
    this.#limits = limits;
  }

  /** Counts a new connection; `false` (not counted) when its address already holds its share. */
  open(id: string, client: string): boolean {
    const held = this.#perAddress.get(client) ?? 0;
    if (held >= this.#limits.maxConnectionsPerAddress) return false;
    this.#perAddress.set(client, held + 1);
    this.#open.set(id, { client, watching: false });
    return true;
  }

  /**
   * Holds a counted connection to the pre-login limits until {@link loggedIn}: closes it with
   * `reply(reason)` at the deadline or at the command past the cap. `onRefused` reports it.
   */
  watch(id: string, connection: GuardedConnection, reply: (reason: SlotRefusal) => SmtpReply, onRefused: (reason: SlotRefusal) => void): void {
    const open = this.#open.get(id);
    if (!open) return;
    open.watching = true;
    const refuse = (reason: SlotRefusal): void => {
      if (!open.watching) return;
      this.#stopWatching(open);
      onRefused(reason);
      const { code, enhanced, text } = reply(reason);
      connection.send(code, `${enhanced} ${text}`, false);
    };
    open.timer = setTimeout(() => refuse('login-timeout'), this.#limits.loginTimeoutSeconds * 1000);
    // A deadline must not keep a stopping process alive.
    open.timer.unref();
    const cap = this.#limits.maxCommandsBeforeLogin;
    let commands = 0;
    const onCommand = connection._onCommand;
    connection._onCommand = function (this: GuardedConnection, command, callback) {
      if (open.watching && ++commands > cap) {
        refuse('too-many-commands');
        return;
      }
      onCommand.call(this, command, callback);
    };
  }

  /** The connection logged in: the pre-login limits no longer apply. */
  loggedIn(id: string): void {
    const open = this.#open.get(id);
    if (open) this.#stopWatching(open);
  }

  /** The connection closed: its slot is free. */
  closed(id: string): void {
    const open = this.#open.get(id);
    if (!open) return;
    this.#open.delete(id);
    this.#stopWatching(open);
    const held = (this.#perAddress.get(open.client) ?? 1) - 1;
    if (held > 0) this.#perAddress.set(open.client, held);
    else this.#perAddress.delete(open.client);
  }

  #stopWatching(open: Open): void {
    open.watching = false;
    clearTimeout(open.timer);
    open.timer = undefined;
  }
}
