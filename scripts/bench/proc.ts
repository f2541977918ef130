/**
 * CPU time and resident memory of a server process and its descendants, read from Linux's /proc.
 * A server may run its work in child processes (e.g. one per core behind SO_REUSEPORT), so every
 * figure covers the whole tree under the pid the benchmark started.
 */

/** Clock ticks per second for /proc/PID/stat times (`getconf CLK_TCK`, 100 on Linux). */
const CLOCK_TICKS = clockTicks();

function clockTicks(): number {
  try {
    const out = new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped" }).outputSync();
    const ticks = Number(new TextDecoder().decode(out.stdout).trim());
    return ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}

/** The fields of /proc/PID/stat after the command name, which may itself hold spaces. */
function statFields(pid: number): string[] | null {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null; // the process is gone
  }
}

/** `root` and every live process below it. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid)) continue;
    const ppid = Number(statFields(pid)?.[1]);
    if (!ppid) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []));
  return tree;
}

/**
 * CPU seconds (user + system) used so far by `root` and its live descendants, including the
 * children `root` has already reaped.
 */
export function cpuSeconds(root: number): number {
  let ticks = 0;
  for (const pid of processTree(root)) {
    const f = statFields(pid);
    if (!f) continue;
    // Fields 14-17 of stat(5): utime, stime, cutime, cstime; index 0 here is field 3 (state).
    ticks += Number(f[11]) + Number(f[12]);
    if (pid === root) ticks += Number(f[13]) + Number(f[14]);
  }
  return ticks / CLOCK_TICKS;
}

/** Resident memory in bytes (VmRSS) of `root` and its descendants, summed. */
export function rssBytes(root: number): number {
  let kb = 0;
  for (const pid of processTree(root)) {
    try {
      const status = Deno.readTextFileSync(`/proc/${pid}/status`);
      kb += Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
    } catch { /* exited meanwhile */ }
  }
  return kb * 1024;
}
