/**
 * A UNIX socket's path must fit in sockaddr_un.sun_path: 108 bytes on Linux with the terminating NUL, so
 * 107 bytes of path. Node does not refuse a longer one: it truncates it silently and the daemon then fails
 * later on a file that does not exist, so the length is checked before anything is bound. Pure.
 */
export const SUN_PATH_BYTES = 108;

/** undefined when `path` fits, else one sentence saying why it cannot be used. */
export function socketPathProblem(path: string): string | undefined {
  const bytes = Buffer.byteLength(path, 'utf8');
  if (bytes === 0) return 'the status socket path is empty';
  if (bytes > SUN_PATH_BYTES - 1) {
    return `the status socket path ${path} is ${bytes} bytes long, more than the ${SUN_PATH_BYTES - 1} a UNIX socket path can hold (sun_path is ${SUN_PATH_BYTES} bytes): choose a shorter path`;
  }
  return undefined;
}
