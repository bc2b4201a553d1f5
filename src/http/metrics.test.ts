import { describe, expect, test } from "bun:test";
import { LATENCY_BUCKETS_SECONDS, METRIC_SERIES_MAX, UNMATCHED_TENANT_LABELS_MAX } from "./limits.ts";
import { HttpMetrics, NO_ROUTE, escapeLabel } from "./metrics.ts";

describe("HttpMetrics", () => {
  test("renders every family with HELP and TYPE lines", () => {
    const m = new HttpMetrics();
    m.observe("default", "GET /a", 200, 0.003);
    const text = m.render([]);
    for (const [name, type] of [
      ["sup_http_requests_total", "counter"],
      ["sup_http_request_duration_seconds", "histogram"],
      ["sup_http_handler_errors_total", "counter"],
      ["sup_http_budget_exhausted_total", "counter"],
      ["sup_http_requests_in_flight", "gauge"],
      ["sup_http_route_version", "gauge"],
      ["sup_compiled_units_total", "counter"],
    ]) {
      expect(text).toContain(`# HELP ${name} `);
      expect(text).toContain(`# TYPE ${name} ${type}\n`);
    }
    expect(text.endsWith("\n")).toBe(true);
  });

  test("histogram buckets are cumulative and end with +Inf, sum and count", () => {
    const m = new HttpMetrics();
    for (const s of [0.0004, 0.003, 0.003, 0.2, 60]) m.observe("default", "GET /a", 200, s);
    const text = m.render([]);
    const bucket = (le: string) => Number(new RegExp(`sup_http_request_duration_seconds_bucket\\{tenant="default",route="GET /a",le="${le.replace("+", "\\+")}"\\} (\\d+)`).exec(text)![1]);
    expect(bucket("0.0005")).toBe(1);
    expect(bucket("0.0025")).toBe(1);
    expect(bucket("0.005")).toBe(3);
    expect(bucket("0.25")).toBe(4);
    expect(bucket(String(LATENCY_BUCKETS_SECONDS[LATENCY_BUCKETS_SECONDS.length - 1]))).toBe(4);
    expect(bucket("+Inf")).toBe(5);
    expect(text).toContain('sup_http_request_duration_seconds_count{tenant="default",route="GET /a"} 5');
  });

  test("observing through a kept series counts exactly as observe does", () => {
    const plain = new HttpMetrics();
    const kept = new HttpMetrics();
    let series: ReturnType<HttpMetrics["observeKept"]>;
    const statuses = [200, 200, 404, 200, 500, 404];
    for (let i = 0; i < 60; i++) {
      const status = statuses[i % statuses.length]!;
      plain.observe("acme", "GET /a", status, i / 1000);
      series = kept.observeKept(series, "acme", "GET /a", status, i / 1000);
    }
    expect(series).toBeDefined();
    expect(kept.render([])).toBe(plain.render([]));
  });

  test("label values are escaped", () => {
    expect(escapeLabel('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    const m = new HttpMetrics();
    m.observe("default", 'GET /"q"', 200, 0);
    expect(m.render([])).toContain('route="GET /\\"q\\""');
  });

  test(`label sets are capped at ${METRIC_SERIES_MAX}; the rest count as route="other"`, () => {
    const m = new HttpMetrics();
    for (let i = 0; i < METRIC_SERIES_MAX; i++) m.handlerError(`t${i}`, "GET /", "exception");
    m.handlerError("t0", "GET /", "exception");
    let text = m.render([]);
    expect(text).toContain('sup_http_handler_errors_total{tenant="t0",route="GET /",kind="exception"} 2');
    expect(text).not.toContain('route="other"');
    m.handlerError("one-more", "GET /", "exception");
    m.handlerError("two-more", "GET /", "exception");
    text = m.render([]);
    expect(text).toContain('sup_http_handler_errors_total{tenant="other",route="other",kind="exception"} 2');
    expect(text).not.toContain('tenant="one-more"');
  });

  test(`requests that matched no route keep their tenant label for ${UNMATCHED_TENANT_LABELS_MAX} tenants; the rest are "other"`, () => {
    const m = new HttpMetrics();
    for (let i = 0; i < UNMATCHED_TENANT_LABELS_MAX; i++) m.observe(`made-up-${i}`, NO_ROUTE, 404, 0);
    m.observe("made-up-0", NO_ROUTE, 404, 0);
    let text = m.render([]);
    expect(text).toContain(`sup_http_requests_total{tenant="made-up-0",route="${NO_ROUTE}",status="404"} 2`);
    expect(text).toContain(`tenant="made-up-${UNMATCHED_TENANT_LABELS_MAX - 1}"`);
    expect(text).not.toContain('tenant="other"');
    // A client inventing a million tenants adds one series, not a million.
    for (let i = 0; i < 1_000_000; i++) m.observe(`invented-${i}`, NO_ROUTE, 404, 0);
    text = m.render([]);
    expect(text).toContain(`sup_http_requests_total{tenant="other",route="${NO_ROUTE}",status="404"} 1000000`);
    expect(text).not.toContain('tenant="invented-');
    expect(text.split("\n").filter((l) => l.startsWith("sup_http_requests_total{")).length).toBe(UNMATCHED_TENANT_LABELS_MAX + 1);
    // Routes that matched are labelled as they were.
    m.observe("invented-7", "GET /x", 200, 0);
    expect(m.render([])).toContain('sup_http_requests_total{tenant="invented-7",route="GET /x",status="200"} 1');
  });
});
