// Answers next/font/google's requests without network, through Next.js's NEXT_FONT_GOOGLE_MOCKED_RESPONSES
// hook (next/dist/compiled/@next/font/dist/google/fetch-css-from-google-fonts.js and fetch-font-file.js):
// the module is looked up by request URL, so a Proxy answers every URL with one @font-face for the family
// it asks for. Its file is CHATVISTA_OPS_FONT_FILE when that is an absolute path to a local font (Next reads
// it from disk); otherwise Next stores placeholder bytes and browsers fall back to the next font.
// Family names and weights are still validated by Next itself, offline, before it asks.
'use strict';

const fontFile = process.env.CHATVISTA_OPS_FONT_FILE || '';
const FORMATS = { ttf: 'truetype', otf: 'opentype', woff: 'woff', woff2: 'woff2' };

function css(url) {
  const family = (new URL(url).searchParams.get('family') || 'Font').split(':')[0];
  const src = fontFile.startsWith('/') ? fontFile : `chatvista-ops-offline-${family.replace(/\W+/g, '-')}.woff2`;
  const format = FORMATS[src.split('.').pop()] || 'woff2';
  return [
    '/* latin */',
    '@font-face {',
    `  font-family: '${family}';`,
    '  font-style: normal;',
    '  font-weight: 100 900;',
    '  font-display: swap;',
    `  src: url(${src}) format('${format}');`,
    '  unicode-range: U+0000-00FF, U+0131, U+0152-0153, U+02BB-02BC, U+02C6, U+02DA, U+02DC, U+2000-206F;',
    '}',
    '',
  ].join('\n');
}

module.exports = new Proxy(
  {},
  { get: (_, key) => (typeof key === 'string' && key.startsWith('https://') ? css(key) : undefined) },
);
