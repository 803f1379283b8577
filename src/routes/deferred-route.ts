import { sendOnce, type OutgoingMail, type Route, type SendCallback } from '../core/route.js';
import { isGmailTransportError } from '../errors/error.js';
import { mapError } from '../errors/map-error.js';

/**
 * A route whose implementation is loaded when the transport is created, in the background, so
 * that importing the package does not parse and keep the code of routes most users never take
 * (the Gmail API route with its MIME and HTTP handling). Calls made before the load lands wait
 * for it; after that every call is forwarded unchanged.
 */
export class DeferredRoute implements Route {
  readonly strategy: string;
  readonly #load: () => Promise<Route>;
  #route: Route | undefined;
  #loading: Promise<Route> | undefined;
  /** Calls waiting for the load: the route is not idle while any is. */
  #waiting = 0;
  #closeWhenLoaded = false;
  readonly #idleListeners: Array<() => void> = [];

  constructor(strategy: string, load: () => Promise<Route>) {
    this.strategy = strategy;
    this.#load = load;
    // A failure here is not lost: the first send or verify loads again and reports it.
    this.#ready().catch(() => undefined);
  }

  get user(): string | undefined {
    return this.#route?.user;
  }

  send(mail: OutgoingMail, callback: SendCallback): void {
    if (this.#route) {
      this.#route.send(mail, callback);
      return;
    }
    this.#whenLoaded((route) => sendOnce(route, mail)).then(
      (info) => callback(null, info),
      (err: unknown) => callback(isGmailTransportError(err) ? err : mapError(err, { strategy: this.strategy })),
    );
  }

  verify(): Promise<true> {
    return this.#route ? this.#route.verify() : this.#whenLoaded((route) => route.verify());
  }

  close(): void {
    if (this.#route) this.#route.close();
    // Calls waiting for the load start once it lands, and the route closes behind them, as a
    // route loaded up front closes under the calls it has in flight.
    else if (this.#waiting > 0) this.#closeWhenLoaded = true;
  }

  isIdle(): boolean {
    return this.#waiting === 0 && (this.#route?.isIdle?.() ?? true);
  }

  onIdle(listener: () => void): void {
    if (this.#route) this.#route.onIdle?.(listener);
    else this.#idleListeners.push(listener);
  }

  async #whenLoaded<T>(call: (route: Route) => Promise<T>): Promise<T> {
    this.#waiting++;
    let route: Route;
    try {
      route = await this.#ready();
    } finally {
      this.#waiting--;
    }
    const result = call(route);
    if (this.#closeWhenLoaded && this.#waiting === 0) {
      this.#closeWhenLoaded = false;
      route.close();
    }
    return result;
  }

  #ready(): Promise<Route> {
    this.#loading ??= this.#load().then(
      (route) => {
        this.#route = route;
        for (const listener of this.#idleListeners.splice(0)) route.onIdle?.(listener);
        return route;
      },
      (err: unknown) => {
        // A failed load (a chunk missing from a broken install) is tried again by the next call.
        this.#loading = undefined;
        this.#closeWhenLoaded = false;
        throw err;
      },
    );
    return this.#loading;
  }
}
