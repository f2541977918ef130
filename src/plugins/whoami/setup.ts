/** `whoami`: takes no arguments. */
import type { Setup } from "../plugin.ts";
import { expectArgs, expectNoBlock } from "../shared/args.ts";
import { WhoamiPlugin } from "./handler.ts";

/** Sets up whoami. */
export const setupWhoami: Setup = (d) => {
  expectArgs(d, "whoami", 0);
  expectNoBlock(d, "whoami");
  return new WhoamiPlugin();
};
