import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { wrongCode } from "@otpin/core/testing";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type SmtpSink, startSmtpSink } from "../test-support/smtp-sink.js";
import { codeFrom, TestStack } from "../test-support/stack.js";

// Starts a real Prometheus that scrapes a running API and worker, drives a short mixed load
// through the simulator, then runs every dashboard panel query and every recording rule
// through Prometheus's HTTP API. CI installs Debian's `prometheus` package; without the binary
// the test is skipped.

const REPO_ROOT = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../../..");
const OPS = join(REPO_ROOT, "ops");
const PROMETHEUS = findOnPath("prometheus");
const SKIP_REASON = "skipped: the prometheus binary is not on PATH (apt-get install -y prometheus)";
const UNAVAILABLE = { failure: { status: 503, code: 20500, message: "Service Unavailable" } };

interface QueryResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

interface RulesResult {
  data: {
    groups: { name: string; rules: { type: string; name: string; query: string; health: string; lastError?: string }[] }[];
  };
}

function findOnPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (typeof address !== "object" || address === null) throw new Error("no port assigned");
  return address.port;
}

/** Reads the job names that the rules and the dashboard expect from the shipped prometheus.yml. */
function jobNames(): string[] {
  const text = readFileSync(join(OPS, "prometheus/prometheus.yml"), "utf8");
  return [...text.matchAll(/job_name:\s*(\S+)/g)].map((match) => match[1] ?? "");
}

function dashboardExpressions(): { panel: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(join(OPS, "grafana/dashboards/otpin.json"), "utf8")) as {
    panels: { title: string; targets?: { expr: string }[] }[];
  };
  return dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

class PrometheusProcess {
  private dir: string | undefined;
  private child: ChildProcess | undefined;
  private output = "";
  url = "";

  async start(binary: string, targets: Record<string, string>): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), "otpin-prometheus-"));
    this.dir = dir;
    const ruleFiles = readdirSync(join(OPS, "prometheus/rules"))
      .filter((name) => name.endsWith(".yml"))
      .map((name) => join(OPS, "prometheus/rules", name));
    // JSON is valid YAML, so the config needs no YAML library.
    const config = {
      global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" },
      rule_files: ruleFiles,
      scrape_configs: Object.entries(targets).map(([job, target]) => ({
        job_name: job,
        metrics_path: "/metrics",
        static_configs: [{ targets: [target] }],
      })),
    };
    const configFile = join(dir, "prometheus.yml");
    writeFileSync(configFile, JSON.stringify(config));
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    this.child = spawn(
      binary,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child.stdout?.on("data", (chunk: Buffer) => this.collect(chunk));
    this.child.stderr?.on("data", (chunk: Buffer) => this.collect(chunk));
    await this.waitUntilReady();
  }

  private collect(chunk: Buffer): void {
    this.output = (this.output + chunk.toString("utf8")).slice(-4000);
  }

  private async waitUntilReady(): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      if (this.child?.exitCode !== null) throw new Error(`prometheus exited: ${this.output}`);
      const ready = await fetch(`${this.url}/-/ready`).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) return;
      await sleep(100);
    }
    throw new Error(`prometheus did not become ready: ${this.output}`);
  }

  async get<T>(path: string, params: Record<string, string> = {}): Promise<T> {
    const response = await fetch(`${this.url}${path}?${new URLSearchParams(params)}`);
    return (await response.json()) as T;
  }

  query(expr: string): Promise<QueryResult> {
    return this.get<QueryResult>("/api/v1/query", { query: expr });
  }

  /** Waits until every target was scraped successfully at least twice after `since`. */
  async waitForScrapes(since: number): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const { data } = await this.get<{ data: { activeTargets: { health: string; lastScrape: string }[] } }>("/api/v1/targets", {
        state: "active",
      });
      const done = data.activeTargets.every((target) => target.health === "up" && Date.parse(target.lastScrape) > since + 1_500);
      if (data.activeTargets.length > 0 && done) return;
      await sleep(200);
    }
    throw new Error(`targets were not scraped twice: ${JSON.stringify(await this.get("/api/v1/targets"))}`);
  }

  /** Runs `expr` until it returns at least one sample that is a number, for up to `timeoutMs`. */
  async queryWithData(expr: string, timeoutMs = 5_000): Promise<QueryResult> {
    const deadline = Date.now() + timeoutMs;
    let last = await this.query(expr);
    while (!hasNumber(last) && last.status === "success" && Date.now() < deadline) {
      await sleep(250);
      last = await this.query(expr);
    }
    return last;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child?.pid !== undefined && child.exitCode === null) {
      const exited = new Promise<void>((done) => child.once("exit", () => done()));
      process.kill(child.pid, "SIGTERM");
      await Promise.race([exited, sleep(5_000)]);
      if (child.exitCode === null) process.kill(child.pid, "SIGKILL");
    }
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
  }
}

function hasNumber(result: QueryResult): boolean {
  return (result.data?.result ?? []).some((sample) => !Number.isNaN(Number(sample.value[1])));
}

let stack: TestStack;
let smtp: SmtpSink;
const prometheus = new PrometheusProcess();

async function sendAndWait(body: Record<string, unknown>): Promise<string> {
  const sent = await stack.send(body);
  expect(sent.status, JSON.stringify(sent.body)).toBe(202);
  const id = String(sent.body.id);
  await stack.waitForStatus(id, ["sent"]);
  return id;
}

/** Verifies with the code the simulator received for `to`, or with a wrong one. */
async function verifyLatest(id: string, to: string, right: boolean): Promise<void> {
  const message = stack.simulator.messages({ to }).at(-1);
  if (message === undefined) throw new Error("no message in the simulator");
  const code = codeFrom(message.body);
  const result = await stack.verify(id, right ? code : wrongCode(code));
  expect(result.status).toBe(200);
}

/** Successes with verifications, a twilio outage with failover, an email fallback and a bad request. */
async function driveMixedLoad(round: number): Promise<void> {
  stack.simulator.reset();
  for (let index = 0; index < 3; index += 1) {
    const to = `+150055501${round}${index}`;
    const id = await sendAndWait({ to });
    await verifyLatest(id, to, index !== 2);
  }
  stack.simulator.setBehaviour("twilio", UNAVAILABLE);
  for (let index = 0; index < 4; index += 1) await sendAndWait({ to: `+150055502${round}${index}` });
  stack.simulator.setBehaviour("plivo", UNAVAILABLE);
  stack.simulator.setBehaviour("vonage", { failure: { status: 200, code: "5", message: "Internal Error" } });
  await sendAndWait({ to: `+150055503${round}0`, email: "user@example.test" });
  stack.simulator.reset();
  const invalid = await stack.send({ to: "not a number" });
  expect(invalid.status).toBe(400);
}

describe.skipIf(PROMETHEUS === undefined)("a real Prometheus scraping the API and the worker", () => {
  beforeAll(async () => {
    smtp = await startSmtpSink();
    stack = await new TestStack({
      workerEnv: {
        SMS_PROVIDERS: "twilio,plivo,vonage",
        BREAKER_VOLUME_THRESHOLD: "3",
        BREAKER_ERROR_THRESHOLD_PERCENT: "50",
        BREAKER_RESET_TIMEOUT_MS: "500",
        SMTP_URL: smtp.url,
        EMAIL_FROM: "otp@example.test",
      },
    }).start();
    // fastify returns the URL it listens on, such as http://127.0.0.1:40123.
    const apiUrl = new URL(await stack.api.listen({ host: "127.0.0.1", port: 0 }));
    const [apiJob, workerJob] = jobNames();
    if (apiJob === undefined || workerJob === undefined) throw new Error("ops/prometheus/prometheus.yml must name two jobs");
    await prometheus.start(PROMETHEUS as string, {
      [apiJob]: apiUrl.host,
      [workerJob]: new URL(stack.worker.healthUrl).host,
    });
  }, 60_000);

  afterAll(async () => {
    await prometheus.stop();
    await stack?.close();
    await smtp?.close();
  });

  test("every panel query and recording rule returns data", async () => {
    // Two rounds with scrapes between them, so every counter has risen between two samples and rate() is not empty.
    await prometheus.waitForScrapes(Date.now());
    await driveMixedLoad(1);
    await prometheus.waitForScrapes(Date.now());
    await driveMixedLoad(2);
    await prometheus.waitForScrapes(Date.now());

    const { data } = await prometheus.get<RulesResult>("/api/v1/rules");
    const rules = data.groups.flatMap((group) => group.rules);
    expect(rules.filter((rule) => rule.type === "recording").length).toBeGreaterThan(0);
    expect(rules.filter((rule) => rule.health !== "ok")).toEqual([]);

    const queries = [
      ...dashboardExpressions().map(({ panel, expr }) => ({ source: `panel "${panel}"`, expr })),
      ...rules.filter((rule) => rule.type === "recording").map((rule) => ({ source: `rule ${rule.name}`, expr: rule.query })),
    ];
    expect(queries.length).toBeGreaterThan(20);
    const empty: string[] = [];
    for (const { source, expr } of queries) {
      const result = await prometheus.queryWithData(expr);
      expect(result.status, `${source}: ${result.error}`).toBe("success");
      if (!hasNumber(result)) empty.push(`${source}: ${expr}`);
    }
    expect(empty).toEqual([]);

    // Alerting rules parse and evaluate; none of them may fail to evaluate.
    const alertsInFile = readFileSync(join(OPS, "prometheus/rules/otpin-alerts.yml"), "utf8").match(/^\s*- alert: /gm) ?? [];
    expect(alertsInFile.length).toBeGreaterThan(0);
    expect(rules.filter((rule) => rule.type === "alerting").length).toBe(alertsInFile.length);
  }, 90_000);
});

if (PROMETHEUS === undefined) {
  // A named skipped test, so the run's output shows why the real-Prometheus check did not run.
  describe("a real Prometheus", () => {
    test.skip(SKIP_REASON, () => {});
  });
}
