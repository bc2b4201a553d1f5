/**
 * In-memory cluster identities for tests: a root and node identities issued by it, without files.
 * `otherRoot` makes a second, unrelated cluster for refusal tests.
 */
import { issueIdentity, makeRoot, NodeIdentity, type IssueInput } from "../../src/net/identity.ts";
import type { RootKey } from "../../src/net/identity-files.ts";

/** A cluster root and a way to issue node identities under it. */
export class TestCluster {
  readonly root: RootKey = makeRoot();

  /** A node identity named `name` (valid from now for a year unless `input` says otherwise). */
  node(name: string, input: Omit<IssueInput, "name"> = {}, nowMs = Date.now()): NodeIdentity {
    return new NodeIdentity(issueIdentity(this.root, { name, ...input }, nowMs));
  }
}
