/**
 * keepalived 2.2.7's command line (keepalived/core/main.c parse_cmdline), read by tslvsd's parser with
 * keepalived's meaning: every flag, getopt's combined short flags and attached values, the accepted
 * no-ops and their notes, the refused flags and their sentences. Pure: no process is started.
 */
import { describe, expect, it } from 'vitest';
import { type CliOptions, parseCliOptions, parseUmask } from '../src/cliOptions.js';

function options(argv: string[]): CliOptions {
  const r = parseCliOptions(argv);
  if (!r.ok) throw new Error(`${argv.join(' ')}: ${r.message}`);
  return r.options;
}

function refusal(argv: string[]): string {
  const r = parseCliOptions(argv);
  if (r.ok) throw new Error(`${argv.join(' ')} was accepted`);
  return r.message;
}

describe("keepalived's flags with keepalived's meaning", () => {
  it('-f/--use-file, -P/--vrrp, -C/--check, -i/--config-id, -p/--pid, -r/--vrrp_pid, -c/--checkers_pid', () => {
    expect(options(['-f', '/etc/keepalived/keepalived.conf']).configFile).toBe('/etc/keepalived/keepalived.conf');
    expect(options(['--use-file', '/a.conf']).configFile).toBe('/a.conf');
    expect(options(['--use-file=/b.conf']).configFile).toBe('/b.conf');
    expect(options(['-f/c.conf']).configFile).toBe('/c.conf');
    expect(options(['--config', '/d.conf']).configFile).toBe('/d.conf');
    expect(options(['-P']).vrrpOnly).toBe(true);
    expect(options(['--vrrp']).vrrpOnly).toBe(true);
    expect(options(['--vrrp-only']).vrrpOnly).toBe(true);
    expect(options(['-C']).checkOnly).toBe(true);
    expect(options(['--check']).checkOnly).toBe(true);
    expect(options(['-i', 'lb1']).configId).toBe('lb1');
    expect(options(['--config-id=lb2']).configId).toBe('lb2');
    expect(options(['-p', '/run/keepalived.pid']).pidFile).toBe('/run/keepalived.pid');
    expect(options(['--pid', '/run/k.pid']).pidFile).toBe('/run/k.pid');
    expect(options(['--pid-file', '/run/t.pid']).pidFile).toBe('/run/t.pid');
    expect(options(['-r', '/run/vrrp.pid']).vrrpPidFile).toBe('/run/vrrp.pid');
    expect(options(['--vrrp_pid=/run/v.pid']).vrrpPidFile).toBe('/run/v.pid');
    expect(options(['-c', '/run/checkers.pid']).checkersPidFile).toBe('/run/checkers.pid');
    expect(options(['--checkers_pid', '/run/c.pid']).checkersPidFile).toBe('/run/c.pid');
  });

  it('-t/--config-test[=LOG_FILE]: the value only attached (getopt optional argument)', () => {
    expect(options(['-t'])).toMatchObject({ command: 'config-test', configTestLogFile: undefined });
    expect(options(['-t/tmp/check.log'])).toMatchObject({ command: 'config-test', configTestLogFile: '/tmp/check.log' });
    expect(options(['--config-test=/tmp/c.log'])).toMatchObject({ command: 'config-test', configTestLogFile: '/tmp/c.log' });
    // The next argument is never -t's value: `-t -f FILE` checks FILE.
    expect(options(['-t', '-f', '/x.conf'])).toMatchObject({ command: 'config-test', configTestLogFile: undefined, configFile: '/x.conf' });
    expect(options(['-f', '/x.conf', '-t'])).toMatchObject({ command: 'config-test', configFile: '/x.conf' });
  });

  it('-d/--dump-conf runs (and logs the configuration); tslvsd --dump-config prints and exits', () => {
    expect(options(['-d'])).toMatchObject({ command: 'run', dumpConf: true });
    expect(options(['--dump-conf'])).toMatchObject({ command: 'run', dumpConf: true });
    expect(options(['-t', '-d'])).toMatchObject({ command: 'config-test', dumpConf: true });
    expect(options(['--dump-config'])).toMatchObject({ command: 'dump-config', dumpConf: false });
  });

  it('-v/--version and -h/--help', () => {
    expect(options(['-v']).command).toBe('version');
    expect(options(['--version']).command).toBe('version');
    expect(options(['-h']).command).toBe('help');
    expect(options(['--help']).command).toBe('help');
    expect(options(['-n', '-h', '-f', '/x']).command).toBe('help');
  });

  it('-g/--log-file[=FILE]: keepalived.log when bare', () => {
    expect(options(['-g']).logFile).toBe('keepalived.log');
    expect(options(['-g/var/log/k.log']).logFile).toBe('/var/log/k.log');
    expect(options(['--log-file=/var/log/t.log']).logFile).toBe('/var/log/t.log');
    expect(options(['--log-file']).logFile).toBe('keepalived.log');
  });

  it('-u/--umask: C notation, permission bits only', () => {
    expect(options(['-u', '022']).umask).toBe(0o22);
    expect(options(['--umask=0x12']).umask).toBe(0x12);
    expect(options(['-u18']).umask).toBe(18);
    expect(parseUmask('0777')).toBe(0o777);
    expect(parseUmask('01000')).toBeUndefined();
    expect(parseUmask('08')).toBeUndefined();
    expect(refusal(['-u', 'rw'])).toBe("-u: invalid umask 'rw' (numeric, e.g. 022)");
  });

  it('-I/--dont-release-ipvs is --keep-ipvs-on-exit', () => {
    expect(options(['-I']).keepIpvsOnExit).toBe(true);
    expect(options(['--dont-release-ipvs']).keepIpvsOnExit).toBe(true);
    expect(options(['--keep-ipvs-on-exit']).keepIpvsOnExit).toBe(true);
  });

  it('--signum=SIGFUNC prints the number of the signals tslvsd handles', () => {
    expect(options(['--signum=STOP'])).toMatchObject({ command: 'signum', signum: 15 });
    expect(options(['--signum', 'RELOAD'])).toMatchObject({ command: 'signum', signum: 1 });
    expect(options(['--signum=DATA']).signum).toBe(10);
    expect(options(['--signum=STATS']).signum).toBe(12);
    expect(refusal(['--signum=STATS_CLEAR'])).toBe("--signum: 'STATS_CLEAR' is not one of STOP, RELOAD, DATA, STATS (the signals tslvsd handles)");
  });
});

describe('combined short flags (getopt)', () => {
  it("Debian's `-nlD` and friends", () => {
    const o = options(['-nlD', '-f', '/etc/keepalived/keepalived.conf', '-p', '/run/keepalived.pid']);
    expect(o).toMatchObject({ command: 'run', configFile: '/etc/keepalived/keepalived.conf', pidFile: '/run/keepalived.pid' });
    expect(o.notes).toHaveLength(3);
  });

  it('a value-taking flag ends the group and takes the rest of it, or the next argument', () => {
    expect(options(['-nPf/x.conf'])).toMatchObject({ vrrpOnly: true, configFile: '/x.conf' });
    expect(options(['-nPf', '/y.conf'])).toMatchObject({ vrrpOnly: true, configFile: '/y.conf' });
    expect(options(['-Cp/run/p.pid'])).toMatchObject({ checkOnly: true, pidFile: '/run/p.pid' });
    expect(options(['-nt'])).toMatchObject({ command: 'config-test' });
    expect(options(['-ntlog'])).toMatchObject({ command: 'config-test', configTestLogFile: 'log' });
    expect(options(['-DD']).notes).toHaveLength(1);
  });

  it('options and the status subcommand in any order; `--` ends the options', () => {
    expect(options(['status', '--json'])).toMatchObject({ command: 'status', json: true });
    expect(options(['--json', 'status'])).toMatchObject({ command: 'status', json: true });
    expect(refusal(['--', '-n'])).toBe("unexpected argument '-n' (the only subcommand is 'status')");
  });

  it('a missing value is refused, as keepalived ("Missing parameter for option")', () => {
    expect(refusal(['-f'])).toBe('missing parameter for option -f');
    expect(refusal(['-nf'])).toBe('missing parameter for option -f');
    expect(refusal(['--use-file='])).toBe('missing parameter for option --use-file');
    expect(refusal(['--pid'])).toBe('missing parameter for option --pid');
    expect(refusal(['--vrrp=yes'])).toBe('option --vrrp takes no value');
  });

  it('unknown flags are named in one sentence', () => {
    expect(refusal(['-nZ'])).toBe("unknown option '-Z' (tslvsd --help lists the options)");
    expect(refusal(['--frob'])).toBe("unknown option '--frob' (tslvsd --help lists the options)");
  });
});

describe('accepted with nothing to do: said once', () => {
  const cases: [string[], RegExp][] = [
    [['-n'], /^-n\/--dont-fork: nothing to do, tslvsd never forks/],
    [['--dont-fork'], /^-n\/--dont-fork: nothing to do/],
    [['-l'], /^-l\/--log-console: nothing to do, tslvsd always logs to stdout/],
    [['--log-console'], /^-l\/--log-console: nothing to do/],
    [['-D'], /^-D\/--log-detail: nothing to do/],
    [['--log-detail'], /^-D\/--log-detail: nothing to do/],
    [['-G'], /^-G\/--no-syslog: nothing to do/],
    [['--no-syslog'], /^-G\/--no-syslog: nothing to do/],
    [['-S', 'local1'], /^-S local1: nothing to do, tslvsd does not use syslog/],
    [['--log-facility=daemon'], /^--log-facility daemon: nothing to do/],
    [['-S7'], /^-S 7: nothing to do/],
    [['-R'], /^-R\/--dont-respawn: nothing to do/],
    [['-B'], /^-B\/--no_bfd: nothing to do/],
    [['--all'], /^--all: nothing to do/],
    [['--flush-log-file'], /^--flush-log-file: nothing to do/],
  ];
  for (const [argv, note] of cases) {
    it(argv.join(' '), () => {
      const o = options(argv);
      expect(o.command).toBe('run');
      expect(o.notes).toHaveLength(1);
      expect(o.notes[0]).toMatch(note);
    });
  }

  it('a flag given twice is noted once', () => {
    expect(options(['-n', '--dont-fork', '-n']).notes).toHaveLength(1);
  });

  it('an invalid facility is refused', () => {
    expect(refusal(['-S', 'local9'])).toBe("-S: invalid log facility 'local9' (0-7, local0-7, user or daemon)");
  });
});

describe('refused in one sentence: what cannot be honoured', () => {
  const cases: [string[], string][] = [
    [['-x'], '-x/--snmp is not supported: tslvsd has no SNMP agent; it exports its state to Prometheus (--metrics-listen)'],
    [['--snmp'], '--snmp is not supported: tslvsd has no SNMP agent; it exports its state to Prometheus (--metrics-listen)'],
    [['-A', '/s'], '-A/--snmp-agent-socket is not supported: tslvsd has no SNMP agent; it exports its state to Prometheus (--metrics-listen)'],
    [['-s', 'ns1'], '-s/--namespace is not supported: tslvsd does not enter a network namespace itself; run it under `ip netns exec NAME` (or systemd NetworkNamespacePath=)'],
    [['--namespace=ns1'], '--namespace is not supported: tslvsd does not enter a network namespace itself; run it under `ip netns exec NAME` (or systemd NetworkNamespacePath=)'],
    [['-T'], '-T/--genhash is not supported: tslvsd has no genhash mode; an HTTP_GET digest is the MD5 of the body (`curl -s URL | md5sum`)'],
    [['-X'], '-X/--release-vips is not supported: tslvsd does not drop the VIPs on a signal-driven transition; stop it (SIGTERM releases them)'],
    [['-V'], '-V/--dont-release-vrrp is not supported: tslvsd always removes its VIPs when it stops, so a stopped director never holds them beside the new master'],
    [['-a'], "-a/--address-monitoring is not supported: tslvsd does not log the host's address changes (`ip monitor address` does)"],
    [['-m'], '-m/--core-dump is not supported: tslvsd does not set up core dumps; systemd-coredump and LimitCORE= do'],
    [['-M'], '-M/--core-dump-pattern is not supported: tslvsd does not set up core dumps; systemd-coredump and LimitCORE= do'],
    [['-b', '/run/bfd.pid'], '-b/--bfd_pid is not supported: tslvsd has no BFD'],
    [['-e'], '-e/--all-config is not supported: write `includer` (an error when a file is missing) in the configuration instead of `include`'],
    [['--debug'], '--debug is not supported: a keepalived debugging option tslvsd does not have (--log-level debug)'],
    [['--perf=run'], '--perf is not supported: a keepalived debugging option tslvsd does not have (node --cpu-prof profiles it)'],
    [['--ignore-sigint'], '--ignore-sigint is not supported: a keepalived debugging option tslvsd does not have'],
    [['-nlx'], '-x/--snmp is not supported: tslvsd has no SNMP agent; it exports its state to Prometheus (--metrics-listen)'],
  ];
  for (const [argv, sentence] of cases) {
    it(argv.join(' '), () => {
      const message = refusal(argv);
      expect(message).toBe(sentence);
      expect(message).not.toContain('\n');
    });
  }
});

describe("tslvsd's own long flags keep working beside keepalived's", () => {
  it('the whole tslvsd vocabulary in one line', () => {
    const o = options(['--config', '/x.conf', '--strict', '--config-id', 'a', '--vrrp-only', '--log-level', 'debug', '--log-format', 'pretty',
      '--metrics-listen', 'off', '--keep-ipvs-on-exit', '--pid-file', '/run/t.pid', '--status-socket', '/run/t.sock']);
    expect(o).toMatchObject({ configFile: '/x.conf', strict: true, configId: 'a', vrrpOnly: true, logLevel: 'debug', logFormat: 'pretty',
      metricsListen: undefined, keepIpvsOnExit: true, pidFile: '/run/t.pid', statusSocket: '/run/t.sock', notes: [] });
  });

  it('contradictions stay refused', () => {
    expect(refusal(['-P', '--check'])).toBe('--vrrp-only and --check-only exclude each other');
    expect(refusal(['-f', '/a', '--config', '/b'])).toBe('--config given twice (-f and --config)');
    expect(refusal(['-t', '--dump-config'])).toBe('--config-test and --dump-config exclude each other');
  });
});
