// The director software is pluggable: the lab drives keepalived 2.2.7 (the reference) or tslvsd through
// this one narrow interface.

/** tslvsd-vrrp: tslvsd's VRRP with keepalived's checker for IPVS (see tslvsd-vrrp.ts). */
export type DirectorSoftwareName = 'keepalived' | 'tslvsd' | 'tslvsd-vrrp';

export interface DirectorLaunch {
  /** Network namespace the director runs in. */
  netns: string;
  /** keepalived.conf syntax; both implementations read the same file. */
  configPath: string;
  /** Where pid files and the log go. */
  workDir: string;
  /** 'primary' | 'backup', for file names and messages. */
  label: string;
}

export interface RunningDirector {
  readonly pid: number;
  readonly logPath: string;
  /** Simulated crash: SIGKILL to every process of the daemon, no chance to clean up. */
  crash(): Promise<void>;
  /** Graceful stop: SIGTERM, wait for exit (SIGKILL after a timeout). */
  stop(): Promise<void>;
  /** Resolves when the main process has exited. */
  readonly exited: Promise<void>;
}

export interface DirectorSoftware {
  readonly name: DirectorSoftwareName;
  /** Why it cannot run here, or null when it can. */
  unavailableReason(): Promise<string | null>;
  start(launch: DirectorLaunch): Promise<RunningDirector>;
}
