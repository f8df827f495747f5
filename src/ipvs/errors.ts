/**
 * Typed IPVS errors. The kernel answers a failed request with a negative errno; the ones callers act on get
 * their own class so a sync can tolerate "already there" / "already gone" without string matching.
 */

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  3: 'ESRCH',
  12: 'ENOMEM',
  16: 'EBUSY',
  17: 'EEXIST',
  19: 'ENODEV',
  22: 'EINVAL',
  34: 'ERANGE',
  95: 'EOPNOTSUPP',
  97: 'EAFNOSUPPORT',
  105: 'ENOBUFS',
};

export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

/** The kernel rejected a request. */
export class IpvsKernelError extends Error {
  readonly errno: number;
  readonly code: string;
  constructor(errno: number, operation: string) {
    super(`IPVS ${operation}: ${errnoName(errno)}`);
    this.name = 'IpvsKernelError';
    this.errno = errno;
    this.code = errnoName(errno);
  }
}

/** EEXIST: the service or destination being added exists already. */
export class IpvsExistsError extends IpvsKernelError {
  constructor(operation: string) {
    super(17, operation);
    this.name = 'IpvsExistsError';
  }
}

/** ENOENT: no such destination (also: unknown scheduler or persistence engine on add). */
export class IpvsNoEntryError extends IpvsKernelError {
  constructor(operation: string) {
    super(2, operation);
    this.name = 'IpvsNoEntryError';
  }
}

/** ESRCH: no such virtual service. */
export class IpvsNoServiceError extends IpvsKernelError {
  constructor(operation: string) {
    super(3, operation);
    this.name = 'IpvsNoServiceError';
  }
}

export function ipvsErrorFromErrno(errno: number, operation: string): IpvsKernelError {
  switch (errno) {
    case 17:
      return new IpvsExistsError(operation);
    case 2:
      return new IpvsNoEntryError(operation);
    case 3:
      return new IpvsNoServiceError(operation);
    default:
      return new IpvsKernelError(errno, operation);
  }
}

/** At start: the kernel has no IPVS. One sentence for the operator, no stack needed. */
export class IpvsUnavailableError extends Error {
  constructor(reason: string) {
    super(`this kernel has no IPVS (${reason}): load ip_vs or run with --vrrp-only`);
    this.name = 'IpvsUnavailableError';
  }
}

/** The kernel did not answer in time (lost ACK, socket overrun). */
export class IpvsTimeoutError extends Error {
  constructor(operation: string, ms: number) {
    super(`IPVS ${operation}: no answer from the kernel within ${ms} ms`);
    this.name = 'IpvsTimeoutError';
  }
}
