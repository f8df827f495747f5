#!/usr/bin/env node
// The Debian copyright file (machine-readable format 1.0) for the package scripts/package-deb.sh builds:
// tslvsd itself (GPL-2.0-or-later, the repository's LICENSE) and every npm package the bundle compiled in,
// as scripts/bundle.mjs listed them (bundled-packages.json: name, version, licence).
//
//   node scripts/deb-copyright.mjs DIST-BUNDLE/bundled-packages.json > copyright
import { readFileSync } from 'node:fs';

const listFile = process.argv[2];
if (!listFile) {
  process.stderr.write('usage: deb-copyright.mjs bundled-packages.json\n');
  process.exit(2);
}
/** @type {{ name: string, version: string, license: string }[]} */
const packages = JSON.parse(readFileSync(listFile, 'utf8'));

/** SPDX ids as the Debian copyright format names them, and the licence paragraph each needs. */
const LICENSES = {
  MIT: {
    debian: 'Expat',
    text: [
      'Permission is hereby granted, free of charge, to any person obtaining a copy of this software and',
      'associated documentation files (the "Software"), to deal in the Software without restriction, including',
      'without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell',
      'copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the',
      'following conditions:',
      '.',
      'The above copyright notice and this permission notice shall be included in all copies or substantial',
      'portions of the Software.',
      '.',
      'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT',
      'LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO',
      'EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER',
      'IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR',
      'THE USE OR OTHER DEALINGS IN THE SOFTWARE.',
    ],
  },
  'Apache-2.0': {
    debian: 'Apache-2.0',
    text: [
      'Licensed under the Apache License, Version 2.0 (the "License"); you may not use this file except in',
      'compliance with the License.',
      '.',
      'On Debian systems, the complete text of the Apache License, Version 2.0 can be found in',
      '"/usr/share/common-licenses/Apache-2.0".',
    ],
  },
  ISC: {
    debian: 'ISC',
    text: [
      'Permission to use, copy, modify, and/or distribute this software for any purpose with or without fee is',
      'hereby granted, provided that the above copyright notice and this permission notice appear in all copies.',
      '.',
      'THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES WITH REGARD TO THIS SOFTWARE.',
    ],
  },
};

/** The copyright year: the build's (SOURCE_DATE_EPOCH, set by package-deb.sh to the last commit's time). */
const YEAR = new Date(Number(process.env.SOURCE_DATE_EPOCH ?? Date.now() / 1000) * 1000).getUTCFullYear();

const out = [
  'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
  'Upstream-Name: tslvsd',
  'Source: https://github.com/tslvsd/tslvsd',
  '',
  'Files: *',
  `Copyright: ${YEAR} the tslvsd developers`,
  'License: GPL-2+',
  ' This program is free software; you can redistribute it and/or modify it under the terms of the GNU',
  ' General Public License as published by the Free Software Foundation; either version 2 of the License,',
  ' or (at your option) any later version.',
  ' .',
  ' This program is distributed in the hope that it will be useful, but WITHOUT ANY WARRANTY; without even',
  ' the implied warranty of MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE. See the GNU General Public',
  ' License for more details.',
  ' .',
  ' On Debian systems, the complete text of the GNU General Public License version 2 can be found in',
  ' "/usr/share/common-licenses/GPL-2".',
];
const used = new Set();
for (const pkg of packages) {
  if (!(pkg.license in LICENSES)) throw new Error(`${pkg.name}@${pkg.version}: licence ${pkg.license} has no paragraph in scripts/deb-copyright.mjs`);
  used.add(pkg.license);
}
const debianIds = [...used].sort().map((id) => LICENSES[/** @type {keyof typeof LICENSES} */ (id)].debian);
// The bundle's files hold tslvsd's own code and the npm packages compiled in beside it.
out.push(
  '',
  'Files: usr/lib/tslvsd/*',
  `Copyright: ${YEAR} the tslvsd developers`,
  ...packages.map((pkg) => ` the authors of ${pkg.name} ${pkg.version}`),
  `License: GPL-2+ and ${debianIds.join(' and ')}`,
  'Comment: the bundle compiles in these npm packages (name version licence):',
  ...packages.map((pkg) => ` ${pkg.name} ${pkg.version} ${pkg.license}`),
);
for (const id of [...used].sort()) {
  const license = LICENSES[/** @type {keyof typeof LICENSES} */ (id)];
  out.push('', `License: ${license.debian}`, ...license.text.map((line) => ` ${line}`));
}
process.stdout.write(`${out.join('\n')}\n`);
