/**
 * Every failure a user can hit through the CLI prints a message naming the problem on stderr and
 * exits non-zero: each command and subcommand with missing arguments, unknown options, missing or
 * unusable files, unreadable or corrupt data directories, no node running, a node refusing, and
 * output that cannot be written (stdout closed, a pipe without a reader, a full disk).
 *
 * The table is run through the real `bin/sup`, a few processes at a time, before the tests assert
 * on the results, so the whole table costs a few seconds.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { read } from "../src/lang/reader.ts";
import { Store } from "../src/store/mod.ts";
import { NodeSandbox, SUP, type NodeProcess } from "./support/node-process.ts";

/** Processes run at once: the machine has few cores and each sup start-up is mostly CPU. */
const CONCURRENCY = 4;
/** A case that takes longer than this has hung; it is killed and fails. */
const CASE_TIMEOUT_MS = 20_000;

const setpriv = Bun.which("setpriv");
const IS_ROOT = process.getuid?.() === 0;
/** The unprivileged user a root test run drops to, to meet a directory it may not enter. */
const NOBODY = 65534;

/** How a case's stdout is set up: captured, closed, a pipe nobody reads, or a full disk. */
type Stdout = "pipe" | "closed" | "broken-pipe" | "full";

interface Case {
  readonly args: readonly string[];
  readonly code: 1 | 2;
  /** What stderr must say. */
  readonly err: RegExp;
  readonly stdout?: Stdout;
  readonly stdin?: string;
  /** Run as an unprivileged user (root test runs only; otherwise the directory is chmod 000). */
  readonly unprivileged?: boolean;
}

interface Result {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

const box = new NodeSandbox();
let node: NodeProcess;
/** A node with an identity (n1, with admin): a cluster of one, for the control-plane commands. */
let member: NodeProcess;
const results = new Map<string, Result>();
const w = (name: string) => join(box.dir, name);

/** The files and directories the cases point at. */
function makeFixtures(): void {
  box.file("ok.sxs", "[ 1 ]\n");
  box.file("hello.sxs", '[ #(load "io") (io/put "hello\\n") ]\n');
  box.file("parse-error.sxs", "[ (a \n");
  box.file("type-error.sxs", '[ (def f (fn (n :int) :int [ "s" ])) ]\n');
  box.file("throws.sxs", '[ (assert 0 "boom") ]\n');
  box.file("loads-missing.sxs", '[ #(load "no-such-kernel") ]\n');
  box.file("spins.sxs", "[ (do [ 1 ]) ]\n");
  box.file("afile", "not a directory\n");
  mkdirSync(w("adir"));
  // Data directories a node cannot use.
  box.file("data-file", "a file where a data directory should be\n");
  mkdirSync(w("data-garbage"));
  writeFileSync(w("data-garbage/sup.db"), "this is not an SQLite database\n".repeat(100));
  mkdirSync(w("data-dbdir/sup.db"), { recursive: true });
  // A real store with a damaged page: its header is sound, so only reading it finds the damage.
  const store = Store.open(w("data-damaged/sup.db"));
  for (let i = 0; i < 50; i++) store.putCode({ name: `GET /r${i}`, kind: "route", source: `[ "${"x".repeat(500)}" ]`, program: read(`[ "${"x".repeat(500)}" ]`).value!, meta: {}, author: "test" });
  store.close();
  const bytes = readFileSync(w("data-damaged/sup.db"));
  bytes.fill(0xff, 4096, 8192);
  writeFileSync(w("data-damaged/sup.db"), bytes);
  mkdirSync(w("data-empty"));
  mkdirSync(w("data-stale"));
  box.file("data-stale/admin.sock", ""); // a leftover, not a socket
  mkdirSync(w("data-locked/inner"), { recursive: true });
  chmodSync(w("data-locked"), IS_ROOT ? 0o700 : 0);
  // Identity files: a root key and a node identity, made through the CLI; a file of no kind, owner-only.
  for (const args of [["identity", "root", "--out", w("root.key")], ["identity", "issue", "n1", "--root", w("root.key"), "--can", "admin,code", "--out", w("n1.id")], ["identity", "issue", "n2", "--root", w("root.key"), "--out", w("n2.id")], ["identity", "request", "n3", "--out", w("n3.req")]]) {
    const r = Bun.spawnSync([SUP, ...args], { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`sup ${args.join(" ")} failed: ${r.stderr.toString()}`);
  }
  box.file("not-identity.txt", "garbage\n");
  chmodSync(w("not-identity.txt"), 0o600);
  // A project without its entry file.
  mkdirSync(w("proj-empty"));
  mkdirSync(w("proj"));
  box.file("proj/init.sxs", '[ #(load "io") (io/put "hi\\n") ]\n');
}

const usage = (re: RegExp) => ({ code: 2 as const, err: re });
const failure = (re: RegExp) => ({ code: 1 as const, err: re });
const NO_NODE = /No node is running in ".*data-empty"/;

/** The table: every command, each way it can fail. */
function cases(): Case[] {
  const url = node.url;
  const data = node.data;
  const cdata = member.data;
  const bc = /backchannel (127\.0\.0\.1:\d+)/.exec(member.stderr())![1]!;
  const c: Case[] = [
    // The entry point.
    { args: [], ...usage(/Usage: sup <command>/) },
    { args: ["frobnicate"], ...usage(/Unknown command "frobnicate"/) },
    { args: ["help", "run"], ...usage(/Unexpected argument "run": "sup help" takes no arguments/) },
    { args: ["help", "--verbose"], ...usage(/Unknown option "--verbose"/) },
    { args: ["version", "extra"], ...usage(/Unexpected argument "extra": "sup version" takes no arguments/) },
    { args: ["--version", "--short"], ...usage(/Unknown option "--short"/) },
    // run
    { args: ["run"], ...usage(/Missing program file/) },
    { args: ["run", w("ok.sxs"), "extra"], ...usage(/Too many arguments: extra/) },
    { args: ["run", w("ok.sxs"), "--frob"], ...usage(/Unknown option "--frob"/) },
    { args: ["run", w("ok.sxs"), "--max-steps", "lots"], ...usage(/Invalid value for --max-steps: .*"lots"/) },
    { args: ["run", w("ok.sxs"), "--max-ms"], ...usage(/Option "--max-ms" needs a value/) },
    { args: ["run", w("nope.sxs")], ...failure(/Cannot read program ".*nope.sxs": file does not exist/) },
    { args: ["run", w("adir")], ...failure(/Cannot read program ".*adir": not a regular file/) },
    { args: ["run", w("parse-error.sxs")], ...failure(/parse-error.sxs:1:3: Unclosed paren list/) },
    { args: ["run", w("type-error.sxs")], ...failure(/type checking failed/) },
    { args: ["run", w("throws.sxs")], ...failure(/Exception during execution: boom \(at .*throws.sxs:1:3\)/) },
    { args: ["run", w("loads-missing.sxs")], ...failure(/loads-missing.sxs:1:4: load: could not resolve kernel: no-such-kernel/) },
    { args: ["run", w("loads-missing.sxs"), "--no-check"], ...failure(/Cannot load kernel "no-such-kernel"/) },
    { args: ["run", w("spins.sxs"), "--max-steps", "1000"], ...failure(/steps budget of 1000 exhausted/) },
    { args: ["run", w("ok.sxs"), "-w", w("nowhere")], ...failure(/Cannot use --working-dir ".*nowhere": directory does not exist/) },
    { args: ["run", w("ok.sxs"), "-w", w("afile")], ...failure(/Cannot use --working-dir ".*afile": not a directory/) },
    { args: ["run", w("ok.sxs"), "-i", w("nowhere")], ...failure(/Cannot use --include ".*nowhere": directory does not exist/) },
    // check
    { args: ["check"], ...usage(/Expected exactly one program file/) },
    { args: ["check", w("ok.sxs"), w("ok.sxs")], ...usage(/Expected exactly one program file/) },
    { args: ["check", w("ok.sxs"), "--max-steps", "5"], ...usage(/Unknown option "--max-steps"/) },
    { args: ["check", w("nope.sxs")], ...failure(/Cannot read program ".*nope.sxs": file does not exist/) },
    { args: ["check", w("adir")], ...failure(/not a regular file/) },
    { args: ["check", w("parse-error.sxs")], ...failure(/Unclosed paren list/) },
    { args: ["check", w("type-error.sxs")], ...failure(/type checking failed/) },
    { args: ["check", w("ok.sxs"), "-w", w("nowhere")], ...failure(/Cannot use --working-dir/) },
    { args: ["check", w("ok.sxs"), "-i", w("afile")], ...failure(/Cannot use --include ".*afile": not a directory/) },
    // repl
    { args: ["repl", "extra"], ...usage(/Unexpected argument "extra"/) },
    { args: ["repl", "--frob"], ...usage(/Unknown option "--frob"/) },
    { args: ["repl", "-w", w("nowhere")], stdin: "", ...failure(/Cannot use --working-dir/) },
    { args: ["repl"], stdin: "(def x\n", ...failure(/Input ended inside an unclosed list or string: "\(def x" was not evaluated/) },
    // start
    { args: ["start", "extra"], ...usage(/Unexpected argument "extra"/) },
    { args: ["start", "--frob"], ...usage(/Unknown option "--frob"/) },
    { args: ["start", "--http", "nope"], ...usage(/Invalid --http address "nope"/) },
    { args: ["start", "--http", "127.0.0.1:99999"], ...usage(/Invalid --http address "127.0.0.1:99999"/) },
    { args: ["start", "--kernels", ","], ...usage(/--kernels needs at least one kernel name/) },
    { args: ["start", "--tenant-host", "a b"], ...usage(/Invalid --tenant-host "a b"/) },
    { args: ["start", "--data", w("data-file"), "--http", "127.0.0.1:0"], ...failure(/Cannot start node: cannot use data directory ".*data-file": it is not a directory/) },
    { args: ["start", "--data", w("data-garbage"), "--http", "127.0.0.1:0"], ...failure(/Cannot open store ".*data-garbage\/sup.db": the file is not an SQLite database/) },
    { args: ["start", "--data", w("data-damaged"), "--http", "127.0.0.1:0"], ...failure(/Cannot open store ".*data-damaged\/sup.db": .*(damaged|malformed)/) },
    { args: ["start", "--data", w("data-dbdir"), "--http", "127.0.0.1:0"], ...failure(/Cannot open store ".*data-dbdir\/sup.db": it is a directory, not a database file/) },
    { args: ["start", "--data", w("data-locked/inner"), "--http", "127.0.0.1:0"], unprivileged: true, ...failure(/Cannot start node: cannot use data directory ".*data-locked\/inner": .*(EACCES|permission denied)/) },
    { args: ["start", "--data", data, "--http", "127.0.0.1:0"], ...failure(/Another node is already running in this data directory/) },
    { args: ["start", "--data", w("data-port"), "--http", `127.0.0.1:${new URL(url).port}`], ...failure(/Cannot listen on 127.0.0.1:\d+: .*in use/) },
    { args: ["start", "--data", w("data-kernels"), "--http", "127.0.0.1:0", "--kernels", "http,no-such-kernel"], ...failure(/kernel "no-such-kernel" of its kernel set does not load/) },
    // health
    { args: ["health", "a", "b"], ...usage(/Too many arguments/) },
    { args: ["health", "--http", "a b"], ...usage(/Invalid URL "http:\/\/a b"/) },
    { args: ["health", "--frob"], ...usage(/Unknown option "--frob"/) },
    { args: ["health", "http://127.0.0.1:1/"], ...failure(/Cannot reach "http:\/\/127.0.0.1:1\/_sup\/health"/) },
    { args: ["health", `${url}/no-such-page`], ...failure(/is not healthy: HTTP 404/) },
    // deps
    { args: ["deps", "a", "b"], ...usage(/Too many arguments: b/) },
    { args: ["deps", "--frob"], ...usage(/Unknown option "--frob"/) },
    { args: ["deps", w("nowhere")], ...failure(/Cannot open project ".*nowhere": directory does not exist/) },
    { args: ["deps", w("afile")], ...failure(/Cannot open project ".*afile": not a directory/) },
    { args: ["deps", w("proj-empty")], ...failure(/Cannot open project ".*proj-empty": init.sxs not found/) },
    // project
    { args: ["project"], ...usage(/Missing project subcommand/) },
    { args: ["project", "frob"], ...usage(/Unknown project subcommand "frob"/) },
    { args: ["project", "new"], ...usage(/Missing project name/) },
    { args: ["project", "new", "bad name"], ...usage(/Invalid project name "bad name"/) },
    { args: ["project", "new", "x", w("adir"), "extra"], ...usage(/Too many arguments: extra/) },
    { args: ["project", "new", "x", w("afile")], ...failure(/Cannot create project "x" in ".*afile": ENOTDIR/) },
    { args: ["project", "new", "proj", box.dir], ...failure(/Cannot create project "proj": ".*proj" already exists/) },
    { args: ["project", "build", "--frob"], ...usage(/Unknown option "--frob"/) },
    { args: ["project", "build", "a", "b"], ...usage(/Too many arguments: b/) },
    { args: ["project", "build", w("nowhere")], ...failure(/Cannot open project ".*nowhere": directory does not exist/) },
    { args: ["project", "run", w("proj-empty")], ...failure(/init.sxs not found/) },
    { args: ["project", "run", w("proj"), "--max-ms", "0"], ...usage(/Invalid value for --max-ms/) },
    { args: ["project", "clean", w("afile")], ...failure(/not a directory/) },
    // code, without a node and with one
    { args: ["code"], ...usage(/Usage: sup code put NAME FILE/) },
    { args: ["code", "frob"], ...usage(/Unknown code command "frob"/) },
    { args: ["code", "ls", "--frob"], ...usage(/Unknown option "--frob"/) },
    { args: ["code", "ls", "extra"], ...usage(/Unexpected argument "extra": "sup code ls" takes no arguments/) },
    { args: ["code", "put"], ...usage(/"sup code put" needs a NAME/) },
    { args: ["code", "put", "GET /x"], ...usage(/"sup code put" needs a FILE/) },
    { args: ["code", "put", "GET /x", w("ok.sxs"), "--meta", "{"], ...usage(/Invalid --meta: not JSON/) },
    { args: ["code", "put", "job:x", w("ok.sxs"), "--every", "5"], ...usage(/Invalid --every "5"/) },
    { args: ["code", "put", "GET /x", w("nope.sxs"), "--data", data], ...failure(/Cannot read ".*nope.sxs": file does not exist/) },
    { args: ["code", "put", "GET /x", w("adir"), "--data", data], ...failure(/Cannot read ".*adir": not a regular file/) },
    { args: ["code", "show"], ...usage(/"sup code show" needs a NAME/) },
    { args: ["code", "show", "a", "b"], ...usage(/Unexpected argument "b"/) },
    { args: ["code", "history"], ...usage(/"sup code history" needs a NAME/) },
    { args: ["code", "rollback"], ...usage(/"sup code rollback" needs a NAME/) },
    { args: ["code", "rollback", "GET /", "--to", "0"], ...usage(/Invalid --to "0"/) },
    { args: ["code", "rm"], ...usage(/"sup code rm" needs a NAME/) },
    { args: ["code", "split"], ...usage(/"sup code split" needs a NAME/) },
    { args: ["code", "split", "GET /"], ...usage(/needs the split/) },
    { args: ["code", "split", "GET /", "1=a"], ...usage(/Invalid split "1=a"/) },
    { args: ["code", "put", "GET /x", w("ok.sxs"), "--data", w("data-empty")], ...failure(NO_NODE) },
    { args: ["code", "ls", "--data", w("data-empty")], ...failure(NO_NODE) },
    { args: ["code", "show", "GET /", "--data", w("data-empty")], ...failure(NO_NODE) },
    { args: ["code", "history", "GET /", "--data", w("data-empty")], ...failure(NO_NODE) },
    { args: ["code", "rollback", "GET /", "--data", w("data-empty")], ...failure(NO_NODE) },
    { args: ["code", "rm", "GET /", "--data", w("data-empty")], ...failure(NO_NODE) },
    { args: ["code", "split", "GET /", "1=50", "--data", w("data-empty")], ...failure(NO_NODE) },
    { args: ["code", "ls", "--data", w("data-stale")], ...failure(/Cannot reach the node in ".*data-stale"/) },
    { args: ["code", "ls", "--data", w("data-file")], ...failure(/Cannot reach a node in ".*data-file": it is not a directory/) },
    { args: ["code", "ls", "--data", w("data-garbage")], ...failure(/No node is running in ".*data-garbage"/) },
    { args: ["code", "ls", "--data", w("data-locked/inner")], unprivileged: true, ...failure(/Cannot reach a node in ".*data-locked\/inner": .*(EACCES|permission denied)/) },
    { args: ["code", "put", "GET /x", w("parse-error.sxs"), "--data", data], ...failure(/Cannot store code "GET \/x": 1 problem: 1:3: Unclosed paren list/) },
    { args: ["code", "put", "BOGUS", w("ok.sxs"), "--data", data], ...failure(/Cannot store code "BOGUS": a route is "METHOD \/path"/) },
    { args: ["code", "put", "GET /x", w("ok.sxs"), "--tenant", "Bad T", "--data", data], ...failure(/tenant "Bad T" is not/) },
    { args: ["code", "put", "job:x", w("ok.sxs"), "--meta", "[1]", "--data", data], ...failure(/Field "meta" must be an object/) },
    { args: ["code", "show", "nosuch", "--data", data], ...failure(/No code named "nosuch" in tenant "default"/) },
    { args: ["code", "show", "GET /", "--version", "abc", "--data", data], ...failure(/Field "version" must be a positive integer, got "abc"/) },
    { args: ["code", "show", "GET /", "--version", "99", "--data", data], ...failure(/No code named "GET \/" at version 99/) },
    { args: ["code", "history", "nosuch", "--data", data], ...failure(/No code named "nosuch"/) },
    { args: ["code", "rollback", "nosuch", "--data", data], ...failure(/Cannot roll back "nosuch": no code of that name/) },
    { args: ["code", "rollback", "GET /", "--data", data], ...failure(/Cannot roll back "GET \/": there is no version before version 1/) },
    { args: ["code", "rm", "nosuch", "--data", data], ...failure(/Cannot remove "nosuch": no code of that name/) },
    { args: ["code", "split", "nosuch", "1=50,2=50", "--data", data], ...failure(/Cannot split "nosuch"/) },
    { args: ["code", "split", "GET /", "1=50,7=50", "--data", data], ...failure(/Cannot split "GET \/": it has no version 7/) },
    // kernels
    { args: ["kernels", "frob"], ...usage(/Unknown kernels command "frob"/) },
    { args: ["kernels", "load"], ...usage(/"sup kernels load" needs a NAME/) },
    { args: ["kernels", "unload"], ...usage(/"sup kernels unload" needs a NAME/) },
    { args: ["kernels", "ls", "extra"], ...usage(/Unexpected argument "extra"/) },
    { args: ["kernels", "load", "a", "b"], ...usage(/Unexpected argument "b"/) },
    { args: ["kernels", "--frob"], ...usage(/Unknown option "--frob"/) },
    { args: ["kernels", "ls", "--data", w("data-empty")], ...failure(NO_NODE) },
    { args: ["kernels", "load", "io", "--data", w("data-empty")], ...failure(NO_NODE) },
    { args: ["kernels", "unload", "io", "--data", w("data-empty")], ...failure(NO_NODE) },
    { args: ["kernels", "load", "no-such-kernel", "--data", data], ...failure(/Cannot load kernel "no-such-kernel"/) },
    { args: ["kernels", "unload", "no-such-kernel", "--data", data], ...failure(/Cannot unload kernel "no-such-kernel": it is not loaded/) },
    // identity
    { args: ["identity"], ...usage(/"sup identity" needs a subcommand/) },
    { args: ["identity", "frob"], ...usage(/Unknown identity command "frob"/) },
    { args: ["identity", "root"], ...usage(/"sup identity root" needs --out FILE/) },
    { args: ["identity", "root", "extra", "--out", w("r2.key")], ...usage(/Unexpected argument "extra"/) },
    { args: ["identity", "root", "--frob"], ...usage(/Unknown option "--frob"/) },
    { args: ["identity", "root", "--out", w("root.key")], ...failure(/Cannot write ".*root.key": the file exists/) },
    { args: ["identity", "root", "--out", w("nowhere/root.key")], ...failure(/Cannot write ".*nowhere\/root.key": ENOENT/) },
    { args: ["identity", "issue"], ...usage(/"sup identity issue" needs a node NAME/) },
    { args: ["identity", "issue", "n2", "--root", w("root.key")], ...usage(/"sup identity issue" needs --out FILE/) },
    { args: ["identity", "issue", "n2", "--root", w("root.key"), "--out", w("n2.id"), "--days", "x"], ...usage(/Invalid --days "x"/) },
    { args: ["identity", "issue", "n2", "--root", w("nope.key"), "--out", w("n2.id")], ...failure(/Cannot read ".*nope.key": no such file/) },
    { args: ["identity", "issue", "n2", "--root", w("not-identity.txt"), "--out", w("n2.id")], ...failure(/Cannot read ".*not-identity.txt": line 1: expected the header/) },
    { args: ["identity", "issue", "Bad Name", "--root", w("root.key"), "--out", w("n2.id")], ...failure(/Invalid node name "Bad Name"/) },
    { args: ["identity", "request"], ...usage(/"sup identity request" needs a node NAME/) },
    { args: ["identity", "request", "n4", "--frob"], ...usage(/Unknown option "--frob"/) },
    { args: ["identity", "sign"], ...usage(/"sup identity sign" needs a request FILE/) },
    { args: ["identity", "sign", w("nope.req"), "--root", w("root.key"), "--out", w("n3.cert")], ...failure(/Cannot read ".*nope.req": no such file/) },
    { args: ["identity", "sign", w("not-identity.txt"), "--root", w("root.key"), "--out", w("n3.cert")], ...failure(/Cannot read ".*not-identity.txt": line 1: expected the header "sup-request 1"/) },
    { args: ["identity", "accept"], ...usage(/"sup identity accept" needs a certificate FILE/) },
    { args: ["identity", "accept", w("n3.req")], ...usage(/"sup identity accept" needs --key KEYFILE/) },
    { args: ["identity", "accept", w("nope.cert"), "--key", w("n3.key")], ...failure(/Cannot read ".*nope.cert": no such file/) },
    { args: ["identity", "accept", w("not-identity.txt"), "--key", w("n3.key")], ...failure(/expected the header "sup-certificate 1"/) },
    { args: ["identity", "show"], ...usage(/"sup identity show" needs a FILE/) },
    { args: ["identity", "show", w("nope.id")], ...failure(/Cannot read ".*nope.id": no such file/) },
    { args: ["identity", "show", w("adir")], ...failure(/Cannot read ".*adir": not a regular file/) },
    // nodes
    { args: ["nodes", "extra"], ...usage(/Unexpected argument "extra"/) },
    { args: ["nodes", "--frob"], ...usage(/Unknown option "--frob"/) },
    { args: ["nodes", "--data", w("data-empty")], ...failure(NO_NODE) },
    { args: ["nodes", "--data", data], ...failure(/This node runs alone/) },
    { args: ["nodes", "--reason", "x"], ...usage(/--serial, --reason and --timeout go with "sup nodes revoke"/) },
    // nodes revoke
    { args: ["nodes", "revoke"], ...usage(/"sup nodes revoke" needs the NAME of a node/) },
    { args: ["nodes", "revoke", "a", "b"], ...usage(/Unexpected argument "b"/) },
    { args: ["nodes", "revoke", "a", "--frob"], ...usage(/Unknown option "--frob"/) },
    { args: ["nodes", "revoke", "a", "--timeout", "5"], ...usage(/Invalid --timeout "5": expected a number with a unit/) },
    { args: ["nodes", "revoke", "a", "--timeout", "2m"], ...usage(/Invalid --timeout "2m": at most 1m/) },
    { args: ["nodes", "revoke", "a", "--data", w("data-empty")], ...failure(NO_NODE) },
    { args: ["nodes", "revoke", "a", "--data", data], ...failure(/This node runs alone/) },
    { args: ["nodes", "revoke", "ghost", "--data", cdata], ...failure(/Cannot revoke "ghost": no member of that name is known here; give --serial/) },
    { args: ["nodes", "revoke", "n1", "--data", cdata], ...failure(/Cannot revoke "n1" from itself/) },
    // exec
    { args: ["exec"], ...usage(/"sup exec" needs --on SELECTOR/) },
    { args: ["exec", "--on", "all"], ...usage(/"sup exec" needs exactly one program: -e EXPR or a FILE/) },
    { args: ["exec", "--on", "all", "-e", "1", w("ok.sxs")], ...usage(/"sup exec" needs exactly one program/) },
    { args: ["exec", "--on", "all", w("ok.sxs"), "extra"], ...usage(/Unexpected argument "extra"/) },
    { args: ["exec", "--on", "rol:web", "-e", "1"], ...usage(/Invalid selector term "rol:web"/) },
    { args: ["exec", "--on", "all", "-e", "1", "--frob"], ...usage(/Unknown option "--frob"/) },
    { args: ["exec", "--on", "all", "-e", "1", "--timeout", "2m"], ...usage(/Invalid --timeout "2m": at most 1m/) },
    { args: ["exec", "--on", "all", w("nope.sxs")], ...usage(/Cannot read ".*nope.sxs": file does not exist/) },
    { args: ["exec", "--on", "all", "-e", "1", "--data", w("data-empty")], ...failure(NO_NODE) },
    { args: ["exec", "--on", "all", "-e", "1", "--data", data], ...failure(/This node runs alone/) },
    { args: ["exec", "--on", "node:nope", "-e", "1", "--data", cdata], ...failure(/Unknown node "nope" in selector "node:nope"/) },
    { args: ["exec", "--on", "all", "-e", "(", "--data", cdata], ...failure(/1 of 1 node failed: n1 \(error\)/) },
    // kernels --on
    { args: ["kernels", "load", "fs", "--on", "rol:web"], ...usage(/Invalid selector term "rol:web"/) },
    { args: ["kernels", "load", "fs", "--timeout", "1s"], ...usage(/--timeout and --json go with --on/) },
    { args: ["kernels", "ls", "--on", "all"], ...usage(/--on, --timeout and --json go with "sup kernels load\|unload"/) },
    { args: ["kernels", "load", "fs", "--on", "all", "--timeout", "2m"], ...usage(/Invalid --timeout "2m": at most 1m/) },
    { args: ["kernels", "load", "fs", "--on", "all", "--data", w("data-empty")], ...failure(NO_NODE) },
    { args: ["kernels", "load", "fs", "--on", "all", "--data", data], ...failure(/This node runs alone/) },
    { args: ["kernels", "load", "fs", "--on", "role:none", "--data", cdata], ...failure(/Selector "role:none" selects no node/) },
    { args: ["kernels", "load", "no-such-kernel", "--on", "all", "--data", cdata], ...failure(/1 of 1 node failed: n1 \(error\)/) },
    // --connect HOST:PORT --identity FILE COMMAND
    { args: ["--connect"], ...usage(/Option "--connect" needs a value/) },
    { args: ["--connect", bc], ...usage(/--connect needs --identity FILE/) },
    { args: ["--connect", "nohost", "--identity", w("n1.id"), "nodes"], ...usage(/Invalid --connect address "nohost"/) },
    { args: ["--connect", bc, "--identity", w("n1.id")], ...usage(/--connect needs a command/) },
    { args: ["--connect", bc, "--identity", w("n1.id"), "run", w("ok.sxs")], ...usage(/"sup --connect" cannot run "run"/) },
    { args: ["--connect", bc, "--identity", w("n1.id"), "nodes", "--frob"], ...usage(/Unknown option "--frob"/) },
    { args: ["--connect", bc, "--identity", w("n1.id"), "exec", "-e", "1"], ...usage(/"sup exec" needs --on SELECTOR/) },
    { args: ["--connect", bc, "--identity", w("nope.id"), "nodes"], ...failure(/Cannot read ".*nope.id": no such file/) },
    { args: ["--connect", "127.0.0.1:1", "--identity", w("n1.id"), "nodes"], ...failure(/Cannot connect to "127.0.0.1:1" as "n1"/) },
    { args: ["--connect", bc, "--identity", w("n2.id"), "kernels", "load", "fs", "--on", "all"], ...failure(/Cannot load a kernel as "n2": its certificate lacks the "admin" permission/) },
    { args: ["--connect", bc, "--identity", w("n2.id"), "nodes", "revoke", "n1"], ...failure(/Cannot revoke a certificate as "n2": its certificate lacks the "admin" permission/) },
    // start without the word: `sup --identity FILE --join HOST:PORT`
    { args: ["--frob"], ...usage(/Unknown option "--frob"/) },
    { args: ["--identity", w("nope.id"), "--data", w("data-identity"), "--http", "127.0.0.1:0"], ...failure(/Cannot read ".*nope.id": no such file/) },
    { args: ["--identity", w("n1.id"), "--join", "nohost", "--data", w("data-identity"), "--http", "127.0.0.1:0"], ...usage(/Invalid --join address "nohost"/) },
    // status
    { args: ["status", "extra"], ...usage(/Unexpected argument "extra"/) },
    { args: ["status", "--frob"], ...usage(/Unknown option "--frob"/) },
    { args: ["status", "--data", w("data-empty")], ...failure(NO_NODE) },
    { args: ["status", "--data", w("data-stale")], ...failure(/Cannot reach the node/) },
  ];
  // Output that cannot be written, for every command that writes to stdout.
  const writers: { args: string[]; stdin?: string }[] = [
    { args: ["run", w("hello.sxs")] },
    { args: ["repl"], stdin: "(debug 1)\n" },
    { args: ["check", w("ok.sxs")] },
    { args: ["version"] },
    { args: ["help"] },
    { args: ["deps", w("proj")] },
    { args: ["project", "run", w("proj")] },
    { args: ["project", "clean", w("proj")] },
    { args: ["health", url] },
    { args: ["status", "--data", data] },
    { args: ["kernels", "ls", "--data", data] },
    { args: ["code", "ls", "--data", data] },
    { args: ["code", "show", "GET /", "--data", data] },
    { args: ["code", "history", "GET /", "--data", data] },
    { args: ["identity", "show", w("n1.id")] },
    { args: ["identity", "root", "--out", w("root-written-on-a-full-disk.key")] },
    { args: ["nodes", "--data", cdata] },
    { args: ["exec", "--on", "all", "-e", "1", "--data", cdata] },
    { args: ["kernels", "load", "json", "--on", "node:n1", "--data", cdata] },
    { args: ["nodes", "revoke", "gone", "--serial", "ab12", "--data", cdata] },
    { args: ["--connect", bc, "--identity", w("n1.id"), "status"] },
  ];
  const why: Record<Exclude<Stdout, "pipe">, RegExp> = {
    closed: /Cannot write output to stdout: stdout was closed when sup started/,
    "broken-pipe": /Cannot write output to stdout: the reading end of the pipe is closed \(EPIPE\)/,
    full: /Cannot write output to stdout: no space left on device \(ENOSPC\)/,
  };
  // Every writer on a full disk (each command's output goes through the checked path); the two
  // writers (program output, command output) and the two kinds of command (local, admin) closed
  // and on a pipe without a reader.
  for (const { args, stdin } of writers) c.push({ args, stdin, stdout: "full", code: 1, err: why.full });
  for (const { args, stdin } of writers.filter((x) => ["run", "repl", "version", "status"].includes(x.args[0]!))) {
    for (const mode of ["closed", "broken-pipe"] as const) c.push({ args, stdin, stdout: mode, code: 1, err: why[mode] });
  }
  // Root can enter any directory; without setpriv to drop to nobody, the permission cases cannot be made.
  return IS_ROOT && setpriv === null ? c.filter((x) => x.unprivileged !== true) : c;
}

const keyOf = (c: Case) => `${c.stdout ?? "pipe"}${c.unprivileged ? " unprivileged" : ""}: sup ${c.args.map((a) => a.replace(box.dir, "$T")).join(" ")}`;

/** The argv that runs `sup args` with the case's stdout and user. */
function argvOf(c: Case, index: number): string[] {
  const drop = c.unprivileged && IS_ROOT && setpriv !== null ? [setpriv, `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--"] : [];
  const sup = [...drop, SUP, ...c.args];
  switch (c.stdout ?? "pipe") {
    case "pipe":
      return sup;
    case "closed":
      return ["sh", "-c", 'exec "$@" >&-', "sh", ...sup];
    case "full":
      return ["sh", "-c", 'exec "$@" >/dev/full', "sh", ...sup];
    case "broken-pipe":
      // A FIFO opened for writing while a read-write descriptor exists, which is then closed: a
      // pipe with no reader, made before sup starts, so its first write fails every time.
      return ["sh", "-c", 'mkfifo "$0" && exec 3<>"$0" 4>"$0" 3<&- && rm "$0" && exec "$@" >&4 4>&-', w(`fifo-${index}`), ...sup];
  }
}

async function runCase(c: Case, index: number): Promise<Result> {
  const proc = Bun.spawn(argvOf(c, index), { cwd: box.dir, stdin: c.stdin === undefined ? "ignore" : Buffer.from(c.stdin), stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), CASE_TIMEOUT_MS);
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, out, err };
}

let table: Case[] = [];

beforeAll(async () => {
  makeFixtures();
  [node, member] = await Promise.all([box.start(box.dataDir("node")), box.start(box.dataDir("member"), ["--identity", w("n1.id"), "--listen", "127.0.0.1:0"], { SUP_LOG: "info" })]);
  table = cases();
  let next = 0;
  const worker = async () => {
    while (next < table.length) {
      const i = next++;
      results.set(keyOf(table[i]!), await runCase(table[i]!, i));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}, 120_000);

afterAll(() => {
  chmodSync(w("data-locked"), 0o700);
  box.cleanup();
});

describe("every CLI failure has a message on stderr and a non-zero exit", () => {
  test("the table covers every command and subcommand", () => {
    const covered = new Set(table.map((c) => c.args.slice(0, ["code", "kernels", "project", "identity"].includes(c.args[0]!) ? 2 : 1).join(" ")));
    for (const command of ["run", "start", "--identity", "--connect", "check", "repl", "status", "nodes", "exec", "health", "deps", "version", "help", "code put", "code ls", "code show", "code history", "code rollback", "code rm", "code split", "kernels ls", "kernels load", "kernels unload", "project new", "project build", "project run", "project clean", "identity root", "identity issue", "identity request", "identity sign", "identity accept", "identity show"]) {
      expect(covered.has(command), command).toBe(true);
    }
  });

  test("each case exits with its code and names the problem, without a stack trace", () => {
    const wrong: string[] = [];
    for (const c of table) {
      const key = keyOf(c);
      const r = results.get(key)!;
      const stackTrace = /^\s+at .*:\d+:\d+\)?$|^Bun v\d/m.test(r.err);
      if (r.code !== c.code || !c.err.test(r.err) || stackTrace) wrong.push(`${key}\n  exit ${r.code} (want ${c.code})\n  stderr: ${r.err.trim().split("\n").join("\n          ")}\n  want: ${c.err}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe("a failed start leaves the data directory usable", () => {
  test("a mistyped --kernels is not stored: the next start without it serves", async () => {
    const data = w("data-kernels");
    const second = await box.start(data);
    const r = await fetch(second.url + "/");
    expect(r.status).toBe(200);
    expect(box.cli(data, ["kernels", "ls"]).out).not.toContain("no-such-kernel");
    second.proc.kill();
    await second.proc.exited;
  });
});
