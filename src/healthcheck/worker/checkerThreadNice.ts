/**
 * The checker thread's nice value, above the main thread's: when the cores are contended (thousands of
 * checks a second, a listener, the kernel's handshakes), the VRRP adverts on the main thread win them — a
 * late advert is a second master, a late check is a late verdict the overload rules already handle. On
 * Linux nice is per thread, and setpriority(PRIO_PROCESS, 0) sets the calling thread's only (setpriority(2),
 * NOTES); the scripts and helpers that thread starts inherit it.
 */
export const CHECKER_THREAD_NICE = 5;
