#!/usr/bin/env node
// Runs every test: installs pnpm and dependencies when missing, makes sure Redis responds,
// runs vitest once over the workspace, and ends with one line "N passed, N failed[, N skipped]".
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDependencies, ensurePnpm, ensureRedis, log, root } from "./toolchain.mjs";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const pnpm = ensurePnpm();
ensureDependencies(pnpm);
const redis = await ensureRedis(redisUrl);

const reportFile = join(mkdtempSync(join(tmpdir(), "otpin-test-")), "vitest.json");
const extraArgs = process.argv.slice(2);
log("running vitest");
const result = spawnSync(
  pnpm[0],
  [
    ...pnpm.slice(1),
    "exec",
    "vitest",
    "run",
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${reportFile}`,
    ...extraArgs,
  ],
  { stdio: "inherit", cwd: root, env: { ...process.env, REDIS_URL: redisUrl } },
);
redis?.kill();

let summary;
try {
  const report = JSON.parse(readFileSync(reportFile, "utf8"));
  const skipped = report.numPendingTests + report.numTodoTests;
  // Files that fail to load count as failures even though no test in them ran.
  const brokenFiles = report.testResults.filter((file) => file.status === "failed" && file.assertionResults.length === 0).length;
  summary = { passed: report.numPassedTests, failed: report.numFailedTests + brokenFiles, skipped };
} catch {
  summary = { passed: 0, failed: 1, skipped: 0 };
  log("vitest wrote no report; counting the run as one failure");
}
const skippedText = summary.skipped > 0 ? `, ${summary.skipped} skipped` : "";
console.log(`${summary.passed} passed, ${summary.failed} failed${skippedText}`);
process.exit(result.status === 0 && summary.failed === 0 && summary.passed > 0 ? 0 : 1);
