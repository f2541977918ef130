/** Readiness: the /ready endpoint asks every registered check. */

/** A named check; `ready()` is called per /ready request, so it must be cheap. */
export interface ReadinessCheck {
  readonly name: string;
  ready(): boolean;
}

/** Where plugins register readiness checks. */
export interface Readiness {
  register(check: ReadinessCheck): void;
}

/** The readiness checks of the running config. */
export class ReadinessRegistry implements Readiness {
  #checks: ReadinessCheck[] = [];

  register(check: ReadinessCheck): void {
    this.#checks.push(check);
  }

  /** The names of the checks that are not ready, sorted; empty when all are. */
  notReady(): string[] {
    return [...new Set(this.#checks.filter((c) => !c.ready()).map((c) => c.name))].sort();
  }
}

let active: ReadinessRegistry = new ReadinessRegistry();

/** The readiness checks of the config that is serving now (what /ready reports). */
export function activeReadiness(): ReadinessRegistry {
  return active;
}

/** Makes `registry` the serving config's readiness; the server calls this on (re)load. */
export function setActiveReadiness(registry: ReadinessRegistry): void {
  active = registry;
}
