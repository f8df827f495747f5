import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * A stand-in for systemd's notify socket: python3 binds an AF_UNIX SOCK_DGRAM socket (a path, or an
 * abstract "@name") and prints each datagram it receives as one JSON string per line. Node itself cannot
 * receive AF_UNIX datagrams, and the point is a real kernel socket, not a fake.
 */
const LISTENER = `
import json, socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\\0" + path[1:] if path.startswith("@") else path)
print(json.dumps("LISTENING"), flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps(data.decode("utf-8", "replace")), flush=True)
`;

export interface NotifyListener {
  /** Datagrams received so far, in order. */
  messages: string[];
  /** Resolves with the first message (from `from` on) that satisfies `match`. */
  waitFor(match: (message: string) => boolean, timeoutMs?: number, from?: number): Promise<string>;
  close(): void;
}

export async function startNotifyListener(socketPath: string): Promise<NotifyListener> {
  const child: ChildProcessWithoutNullStreams = spawn('python3', ['-c', LISTENER, socketPath], { stdio: ['pipe', 'pipe', 'pipe'] });
  const messages: string[] = [];
  const waiters = new Set<() => void>();
  let listening: () => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    listening = resolve;
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`notify listener exited (${code})`)));
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const message = JSON.parse(line) as string;
    if (message === 'LISTENING') return listening();
    messages.push(message);
    for (const wake of waiters) wake();
  });
  await ready;
  return {
    messages,
    waitFor(match, timeoutMs = 10_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = messages.slice(from).find(match);
          if (found === undefined) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no notify message matched within ${timeoutMs} ms; got ${JSON.stringify(messages)}`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    close() {
      child.kill('SIGKILL');
    },
  };
}
