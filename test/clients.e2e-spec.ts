import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestApp, TestApp } from './support/test-app';

// newman ships no types; these are the parts of its run summary this file reads.
interface NewmanFailure {
  source?: { name?: string };
  error: { test?: string; message: string };
}
interface NewmanSummary {
  run: {
    stats: { requests: { total: number; failed: number }; assertions: { total: number; failed: number } };
    executions: { item: { name: string } }[];
    failures: NewmanFailure[];
  };
}
interface Newman {
  run(options: Record<string, unknown>, callback: (error: Error | null, summary: NewmanSummary) => void): void;
}
const newman = require('newman') as Newman;

// httpyac's --json output: one entry per request, each with its test results.
interface HttpyacReport {
  summary: {
    totalRequests: number;
    successRequests: number;
    totalTests: number;
    successTests: number;
    failedTests: number;
    erroredTests: number;
  };
  requests: { name: string; response?: { statusCode: number }; testResults?: { status: string; message: string }[] }[];
}

const CLIENTS = join(__dirname, '..', 'clients');
const HTTPYAC = join(__dirname, '..', 'node_modules', '.bin', 'httpyac');
const BASE_URL_LINE = /^@baseUrl = http:\/\/localhost:8000$/m;

function runNewman(options: Record<string, unknown>): Promise<NewmanSummary> {
  return new Promise((resolve, reject) => {
    newman.run(options, (error, summary) => (error ? reject(error) : resolve(summary)));
  });
}

/** Runs a command without blocking the app that answers it (it lives in this process). */
function run(file: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('the ready-made API clients (clients/) against the running app', () => {
  let t: TestApp;
  let baseUrl: string;

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    baseUrl = await t.app.getUrl();
  });

  afterAll(async () => {
    await t.close();
  });

  it('runs the Postman walk-through with newman: every request runs and every assertion passes', async () => {
    const collection = JSON.parse(readFileSync(join(CLIENTS, 'postman', 'posts-api.postman_collection.json'), 'utf8'));
    const environment = JSON.parse(
      readFileSync(join(CLIENTS, 'postman', 'posts-api.postman_environment.json'), 'utf8'),
    );
    const walkthrough = collection.item.find((folder: { name: string }) => folder.name === 'walk-through');
    const steps = walkthrough.item.map((item: { name: string }) => item.name);

    const summary = await runNewman({
      collection,
      environment,
      envVar: [{ key: 'baseUrl', value: baseUrl }],
      folder: 'walk-through',
      reporters: [],
    });

    const failures = summary.run.failures.map(
      (failure) => `${failure.source?.name}: ${failure.error.test ?? ''} ${failure.error.message}`,
    );
    expect(failures).toEqual([]);
    expect(summary.run.executions.map((execution) => execution.item.name)).toEqual(steps);
    expect(summary.run.stats.requests).toMatchObject({ total: steps.length, failed: 0 });
    expect(summary.run.stats.assertions.failed).toBe(0);
    expect(summary.run.stats.assertions.total).toBeGreaterThanOrEqual(2 * steps.length);
    console.log(
      `newman: ${summary.run.stats.requests.total} of ${steps.length} requests ran; ` +
        `${summary.run.stats.assertions.total - summary.run.stats.assertions.failed} of ` +
        `${summary.run.stats.assertions.total} assertions passed`,
    );
  });

  it('runs walkthrough.http with httpyac: every request answers as the file expects', async () => {
    const source = readFileSync(join(CLIENTS, 'walkthrough.http'), 'utf8');
    expect(source).toMatch(BASE_URL_LINE);
    const requests = source.match(/^### /gm)?.length ?? 0;
    const assertions = source.match(/^# \?\? /gm)?.length ?? 0;
    expect(requests).toBeGreaterThan(0);

    // httpyac lets the file's @baseUrl win over --var, so a copy points at this app.
    const work = mkdtempSync(join(tmpdir(), 'walkthrough-'));
    try {
      writeFileSync(join(work, 'walkthrough.http'), source.replace(BASE_URL_LINE, `@baseUrl = ${baseUrl}`));
      copyFileSync(join(CLIENTS, 'httpyac.config.js'), join(work, 'httpyac.config.js'));
      const { code, stdout, stderr } = await run(HTTPYAC, ['send', 'walkthrough.http', '--all', '--json'], work);

      const report = JSON.parse(stdout) as HttpyacReport;
      const failed = report.requests.flatMap((sent) =>
        (sent.testResults ?? [])
          .filter((result) => result.status !== 'SUCCESS')
          .map((result) => `${sent.name} (${sent.response?.statusCode}): ${result.status} ${result.message}`),
      );
      expect(failed).toEqual([]);
      expect(report.summary).toMatchObject({
        totalRequests: requests,
        successRequests: requests,
        // Every "# ?? ..." line of the file was read (httpyac.config.js) and checked.
        totalTests: assertions,
        successTests: assertions,
        failedTests: 0,
        erroredTests: 0,
      });
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      console.log(
        `httpyac: ${report.summary.successRequests} of ${requests} requests answered as expected; ` +
          `${report.summary.successTests} of ${assertions} assertions passed`,
      );
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
