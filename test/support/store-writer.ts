/**
 * A child process for store crash and concurrency tests: opens the store at argv[2] and writes code
 * in a tight loop, printing `name version seq` for each write only after putCode has returned (so
 * every printed line is an acknowledged write). Stops after argv[3] writes when given, else runs
 * until it is killed. Lines go out with a synchronous write, so none waits in a buffer.
 */
import { writeSync } from "node:fs";
import { read } from "../../src/lang/reader.ts";
import { Store } from "../../src/store/mod.ts";

/** Distinct names written in turn, so versions grow on several names at once. */
const NAMES = 7;
/** Distinct programs: fewer than writes, so many writes reuse an existing blob. */
const PROGRAMS = 50;

const [path, countArg] = process.argv.slice(2);
if (path === undefined) {
  process.stderr.write("usage: store-writer.ts DB_PATH [COUNT]\n");
  process.exit(64);
}
const count = countArg === undefined ? Infinity : Number(countArg);
const store = Store.open(path);
for (let i = 0; i < count; i++) {
  const text = `[${i % PROGRAMS} "write"]`;
  const program = read(text).value;
  if (program === null) throw new Error(`assertion failed: ${text} does not parse`);
  const v = store.putCode({ name: `POST /crash/${i % NAMES}`, kind: "route", source: `${text} ; write ${i}`, program, meta: { i }, author: "store-writer" });
  writeSync(1, `${v.name} ${v.version} ${v.seq}\n`);
}
store.close();
