// A line echo server for the long-lived connections of the sync scenarios: run inside a real server's
// namespace (`node echo-server.mjs PORT NAME`); every line comes back prefixed with the server's name.
import { createServer } from 'node:net';

const port = Number(process.argv[2] ?? 7);
const name = process.argv[3] ?? 'rs';
const server = createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  let pending = '';
  socket.on('data', (chunk) => {
    pending += chunk.toString('latin1');
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      socket.write(`${name} ${pending.slice(0, nl)}\n`);
      pending = pending.slice(nl + 1);
    }
  });
});
server.listen(port, '0.0.0.0', () => process.stdout.write(`listening ${port}\n`));
process.on('SIGTERM', () => process.exit(0));
