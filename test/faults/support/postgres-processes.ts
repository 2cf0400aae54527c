import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The processes of a PostgreSQL cluster: its postmaster and the postmaster's children.
 * SIGSTOP to all of them freezes the server with its sockets open (a frozen host or a
 * network partition, as a client sees it); SIGCONT resumes it.
 */
export function postgresProcesses(clusterDir: string): number[] {
  const postmaster = Number(readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
  return [postmaster, ...children];
}
