/**
 * The demo: three real containers under ocimon, one that prints and exits 0,
 * one that exits 3, one that the kernel OOM-kills under a 16 MiB limit, each
 * followed by the status ocimon wrote for it.
 */
import { join } from "node:path";
import { makeBundle, OOM_ARGS } from "../tests/support/bundle.ts";

const root = new URL("..", import.meta.url).pathname;
const ocimon = Deno.env.get("OCIMON_BIN") ?? join(root, "bin/ocimon");
const work = Deno.makeTempDirSync({ prefix: "ocimon-demo-" });

const containers = [
  {
    name: "hello",
    what: "prints and exits 0",
    args: ["sh", "-c", "echo hello from $(hostname); echo on stderr too >&2"],
  },
  { name: "three", what: "exits 3", args: ["sh", "-c", "echo giving up; exit 3"] },
  {
    name: "hungry",
    what: "allocates until the kernel OOM-kills it (16 MiB limit)",
    args: OOM_ARGS,
    memoryLimit: 16 << 20,
  },
];

let failures = 0;
try {
  for (const c of containers) {
    const bundle = makeBundle(work, c.name, {
      args: c.args,
      memoryLimit: c.memoryLimit,
      cgroupsPath: `/ocimon-demo/${c.name}-${Deno.pid}`,
    });
    const statusFile = join(work, `${c.name}.status.json`);
    console.log(`\n━━ ${c.name}: ${c.what}`);
    console.log(`$ ocimon run ${bundle} --status-file ${statusFile}`);
    const out = await new Deno.Command(ocimon, {
      args: ["run", bundle, "--status-file", statusFile, "--name", `demo-${c.name}-${Deno.pid}`],
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    const st = JSON.parse(Deno.readTextFileSync(statusFile));
    console.log(`exit status of ocimon run: ${out.code}`);
    console.log(
      "status file:",
      JSON.stringify(
        {
          exitCode: st.exitCode,
          signal: st.signal,
          oomKilled: st.oomKilled,
          oomKillCount: st.oomKillCount,
          cgroup: st.cgroup && `v${st.cgroup.version} ${st.cgroup.path}`,
          memory: st.memory,
        },
        null,
        1,
      ).replace(/\n\s*/g, " "),
    );
    const expected = { hello: [0, false], three: [3, false], hungry: [137, true] }[c.name]!;
    if (st.exitCode !== expected[0] || st.oomKilled !== expected[1]) {
      console.log(`  !! expected exit ${expected[0]}, oomKilled ${expected[1]}`);
      failures++;
    }
  }
} finally {
  Deno.removeSync(work, { recursive: true });
}
console.log(
  failures
    ? `\ndemo: ${failures} container(s) ended unexpectedly`
    : "\ndemo: all three containers ended as expected",
);
Deno.exit(failures ? 1 : 0);
