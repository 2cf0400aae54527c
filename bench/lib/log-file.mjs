// The request log of the LOG_LEVEL=info app process, written to a file: counted once the
// process has stopped (its asynchronous stdout is flushed at exit).
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** Lines of the file, and how many of them are request lines (JSON with `responseTime`). */
export async function countLogLines(file) {
  let lines = 0;
  let requestLines = 0;
  let lastRequestLine;
  const reader = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of reader) {
    if (!line.trim()) continue;
    lines++;
    if (line.includes('"responseTime":')) {
      requestLines++;
      lastRequestLine = line;
    }
  }
  return { lines, requestLines, lastRequestLine };
}
