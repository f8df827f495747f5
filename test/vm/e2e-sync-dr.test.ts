// tslvsd-vm-timeout: 2400
// tslvsd-vm-expected: 210
// Connection sync through crash, preemption and graceful stop in the LVS-DR lab, tslvsd and keepalived
// 2.2.7 side by side (test/vm/helpers/connectionSync.ts).
import { describeConnectionSync } from './helpers/connectionSync.js';

await describeConnectionSync('dr');
