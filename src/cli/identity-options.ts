/**
 * What `sup identity issue` and `sup identity sign` share: the certificate options (roles, labels,
 * permissions, validity) read into an IssueInput, and the one-line summary they print.
 */
import type { Certificate, IssueInput } from "../net/mod.ts";
import { UsageError, type OptionSpec } from "./args.ts";
import { IDENTITY_USAGE } from "./identity.ts";

/** The options of the certificate's contents. */
export const CERT_OPTIONS = {
  root: { type: "string" },
  out: { type: "string" },
  role: { type: "string", multiple: true },
  label: { type: "string", multiple: true },
  can: { type: "string", multiple: true },
  days: { type: "string" },
  "not-before": { type: "string" },
} as const satisfies Record<string, OptionSpec>;

/** Reads the certificate options (everything but the name). */
export function certInput(values: { role?: string[]; label?: string[]; can?: string[]; days?: string; "not-before"?: string }): Omit<IssueInput, "name"> {
  const labels = (values.label ?? []).map((l): [string, string] => {
    const eq = l.indexOf("=");
    if (eq <= 0) throw new UsageError(`Invalid --label "${l}": expected KEY=VALUE, e.g. region=eu\n${IDENTITY_USAGE}`);
    return [l.slice(0, eq), l.slice(eq + 1)];
  });
  const can = (values.can ?? []).flatMap((c) => c.split(",")).map((c) => c.trim()).filter(Boolean);
  let days: number | undefined;
  if (values.days !== undefined) {
    days = Number(values.days);
    if (!/^\d+$/.test(values.days)) throw new UsageError(`Invalid --days "${values.days}": expected a whole number of days\n${IDENTITY_USAGE}`);
  }
  let notBefore: number | undefined;
  if (values["not-before"] !== undefined) {
    notBefore = Date.parse(values["not-before"]);
    if (!Number.isFinite(notBefore)) throw new UsageError(`Invalid --not-before "${values["not-before"]}": expected a time such as 2030-01-31 or 2030-01-31T12:00:00Z\n${IDENTITY_USAGE}`);
  }
  return { roles: values.role ?? [], labels, can, days, notBefore };
}

/** `--root` and `--out` are required. */
export function requireFiles(values: { root?: string; out?: string }, command: string): { root: string; out: string } {
  if (values.root === undefined) throw new UsageError(`"sup identity ${command}" needs --root ROOTFILE\n${IDENTITY_USAGE}`);
  if (values.out === undefined) throw new UsageError(`"sup identity ${command}" needs --out FILE\n${IDENTITY_USAGE}`);
  return { root: values.root, out: values.out };
}

/** One line saying what a certificate grants and until when. */
export function certSummary(c: Certificate): string {
  const parts = [`node "${c.name}"`, `cluster ${c.clusterId}`];
  if (c.roles.length > 0) parts.push(`roles ${c.roles.join(",")}`);
  if (c.labels.length > 0) parts.push(`labels ${c.labels.map(([k, v]) => `${k}=${v}`).join(",")}`);
  if (c.can.length > 0) parts.push(`can ${c.can.join(",")}`);
  parts.push(`valid ${new Date(c.notBefore).toISOString()} to ${new Date(c.notAfter).toISOString()}`);
  return parts.join(", ");
}
