import { formatStatusText } from './status.js';
import { DEFAULT_STATUS_SOCKET, readStatus } from './statusSocket.js';

/**
 * `tslvsd status [--json] [--status-socket PATH]`: asks the running daemon over its status socket and
 * prints the answer (a table, or the JSON document as is). Exit 0 on an answer, 1 when no daemon answers,
 * 2 on a usage error.
 */
export async function runStatusCommand(
  args: string[],
  out: { write(text: string): unknown } = process.stdout,
  err: { write(text: string): unknown } = process.stderr,
): Promise<number> {
  let json = false;
  let socketPath = DEFAULT_STATUS_SOCKET;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--json') json = true;
    else if (arg === '--status-socket' && i + 1 < args.length) socketPath = args[++i]!;
    else if (arg.startsWith('--status-socket=')) socketPath = arg.slice('--status-socket='.length);
    else {
      err.write(`tslvsd status: unknown argument "${arg}"\nusage: tslvsd status [--json] [--status-socket PATH]\n`);
      return 2;
    }
  }
  try {
    const status = await readStatus(socketPath);
    out.write(json ? JSON.stringify(status, null, 2) + '\n' : formatStatusText(status));
    return 0;
  } catch (e) {
    err.write(`tslvsd status: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
