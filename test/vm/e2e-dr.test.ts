// tslvsd-vm-expected: 250
// LVS-DR end to end (issues 7 and 5): a client, a primary and a backup director, two real servers in
// namespaces inside the VM, with client traffic throughout. The scenarios live in lab/e2e/suite.ts.
import { describeLvsMode } from '../../lab/e2e/suite.js';

await describeLvsMode('dr');
