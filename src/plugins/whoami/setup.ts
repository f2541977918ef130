/** `whoami`: takes no arguments. */
import type { Setup } from "../../plugin/plugin.ts";
import { expectArgs, expectNoBlock } from "../../corefile/args.ts";
import { WhoamiPlugin } from "./handler.ts";

/** Sets up whoami. */
export const setupWhoami: Setup = (d) => {
  expectArgs(d, "whoami", 0);
  expectNoBlock(d, "whoami");
  return new WhoamiPlugin();
};
