/**
 * etcdns: a DNS server for clusters, configured by a Corefile and backed by etcd.
 *
 * `etcdns [flags]` serves (CoreDNS's flags); `etcdns check|hosts|slots ...` are tools.
 */
import { runCheck } from "./src/cli/check.ts";
import { UsageError } from "./src/cli/flags.ts";
import { runHostsCommand } from "./src/cli/hosts.ts";
import { runServe } from "./src/cli/serve.ts";
import { runSlotsCommand } from "./src/cli/slots.ts";
import { CorefileError } from "./src/corefile/types.ts";
import { errorMessage } from "./src/util/errors.ts";

const USAGE = `usage:
  etcdns [-conf FILE] [-dns.port PORT] [-pidfile FILE] [-quiet]   serve DNS (default ./Corefile)
  etcdns -version | -plugins
  etcdns check [-conf FILE] [--json]    validate a Corefile
  etcdns hosts COMMAND ...               manage the hosts file in etcd (etcdns hosts help)
  etcdns slots list|release ...          show or free idetcd slots (etcdns slots help)`;

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  serve: runServe,
  check: runCheck,
  hosts: runHostsCommand,
  slots: runSlotsCommand,
  help: () => {
    console.log(USAGE);
    return Promise.resolve(0);
  },
};

/** Runs the command line and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const [first, ...rest] = args;
  const named = first !== undefined && !first.startsWith("-");
  const command = named ? COMMANDS[first] : runServe;
  try {
    if (!command) throw new UsageError(`unknown command '${first}'`);
    return await command(named ? rest : args);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`etcdns: ${err.message}\n${USAGE}`);
      return 2;
    }
    const prefix = err instanceof CorefileError ? "Corefile error: " : "";
    console.error(`etcdns: ${prefix}${errorMessage(err)}`);
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
