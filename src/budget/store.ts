import type { TokenStore } from '../core/tokens.js';
import { memoryLedger, type Ledger, type Usage, type Verdict } from './ledger.js';
import type { BudgetLimits } from '../core/budget.js';

/** A store problem, reported as a transporter `warning`. */
export type LedgerWarning = (code: string, message: string) => void;

/**
 * The ledger of a budget store: memory (the default) directly; a shared store's ledger, with
 * its timeouts and its fallback to memory, is loaded on first use (shared-ledger.ts), so that
 * importing the package does not load the code of stores most users never give.
 */
export function ledgerFor(store: TokenStore | undefined, warn: LedgerWarning, now: () => number): Ledger {
  return store ? new DeferredLedger(() => import('./shared-ledger.js').then((m) => m.sharedLedger(store, warn, now))) : memoryLedger;
}

/** Forwards every call to the shared ledger once it is loaded. */
class DeferredLedger implements Ledger {
  readonly #load: () => Promise<Ledger>;
  #ledger: Ledger | undefined;
  #loading: Promise<Ledger> | undefined;

  constructor(load: () => Promise<Ledger>) {
    this.#load = load;
  }

  /** The loaded ledger's; a store whose ledger never loaded counts as Keyv. */
  get kind(): Ledger['kind'] {
    return this.#ledger?.kind ?? 'keyv';
  }

  reserve(key: string, recipients: number, limits: BudgetLimits, now: number): Promise<Verdict> {
    const ledger = this.#ledger;
    return ledger ? (ledger.reserve(key, recipients, limits, now) as Promise<Verdict>) : this.#ready().then((l) => l.reserve(key, recipients, limits, now));
  }

  async release(key: string, handle: unknown): Promise<void> {
    await (this.#ledger ?? (await this.#ready())).release(key, handle);
  }

  async markSpent(key: string, until: number, now: number): Promise<void> {
    await (this.#ledger ?? (await this.#ready())).markSpent(key, until, now);
  }

  async usage(key: string, now: number): Promise<Usage> {
    return (this.#ledger ?? (await this.#ready())).usage(key, now);
  }

  #ready(): Promise<Ledger> {
    if (this.#ledger) return Promise.resolve(this.#ledger);
    this.#loading ??= this.#load().then(
      (ledger) => (this.#ledger = ledger),
      (err: unknown) => {
        // A failed load (a chunk missing from a broken install) is tried again by the next call.
        this.#loading = undefined;
        throw err;
      },
    );
    return this.#loading;
  }
}
