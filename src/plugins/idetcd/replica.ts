/**
 * A worker thread's copy of a SlotView. The main thread watches the slots in etcd (one watch per
 * node) and claims this node's slot; each change of the view reaches the workers through
 * src/plugin/shared_state.ts, and they answer from this copy.
 */
import { followState } from "../../plugin/shared_state.ts";
import type { Resource } from "../../plugin/resources.ts";
import type { SlotRecord } from "./slots.ts";
import type { PublishedSlots, SlotLookup } from "./view.ts";

/** The slots a worker answers from; replaced whole when the main thread publishes. */
export class SlotViewReplica implements Resource, SlotLookup {
  #byName = new Map<string, SlotRecord>();
  #all: readonly SlotRecord[] = [];
  #revision = 0;
  #stop: (() => void) | null = null;

  constructor(readonly stateKey: string) {}

  get(name: string): SlotRecord | undefined {
    return this.#byName.get(name);
  }

  all(): readonly SlotRecord[] {
    return this.#all;
  }

  get revision(): number {
    return this.#revision;
  }

  start(): Promise<void> {
    this.#stop = followState(this.stateKey, (value) => {
      const { records, revision } = value as PublishedSlots;
      this.#all = records;
      this.#byName = new Map(records.map((r) => [r.name, r]));
      this.#revision = revision;
    });
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#stop?.();
    this.#stop = null;
    return Promise.resolve();
  }
}
