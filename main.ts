/**
 * etcdns: a DNS server for clusters, configured by a Corefile and backed by etcd.
 *
 * `etcdns [flags]` serves (CoreDNS's flags); `etcdns check|hosts|slots|discovery ...` are tools.
 */
import { UsageError } from "./src/cli/flags.ts";
import { CorefileError } from "./src/corefile/types.ts";
import { errorMessage } from "./src/util/errors.ts";

const USAGE = `usage:
  etcdns [-conf FILE] [-dns.port PORT] [-pidfile FILE] [-quiet]   serve DNS (default ./Corefile)
  etcdns -version | -plugins
  etcdns check [-conf FILE] [--json]    validate a Corefile
  etcdns hosts COMMAND ...               manage the hosts file in etcd (etcdns hosts help)
  etcdns slots list|release|self ...     show or free idetcd slots (etcdns slots help)
  etcdns discovery new|show|delete ...   etcd discovery tokens (etcdns discovery help)`;

type Command = (args: string[]) => Promise<number>;

/** Each command's module loads when it runs, so serving never loads the tools' code (YAML,
 * the hosts editor) and the tools never load the server's. String literals, so `deno compile`
 * embeds every one. */
const runServe: Command = async (args) => (await import("./src/cli/serve.ts")).runServe(args);

const COMMANDS: Record<string, Command> = {
  serve: runServe,
  check: async (args) => (await import("./src/cli/check.ts")).runCheck(args),
  hosts: async (args) => (await import("./src/cli/hosts.ts")).runHostsCommand(args),
  slots: async (args) => (await import("./src/cli/slots.ts")).runSlotsCommand(args),
  discovery: async (args) => (await import("./src/cli/discovery.ts")).runDiscoveryCommand(args),
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
